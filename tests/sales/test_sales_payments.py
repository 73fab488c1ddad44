"""Payment and issue (R3.4 steps 4-5): window payments with change, partner prepaid, the sandbox
provider's signed idempotent callback, late payments re-held or refunded, signed tickets."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest

from db.catalog.tables import SessionSeat
from db.core.errors import Conflict, InvalidInput
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment, start_online_payment
from db.sales.payments.providers import provider
from db.sales.queries import availability, get_order
from db.sales.tables import Payment, PaymentRefund, Ticket
from db.sales.tickets.codes import keyring
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import BUYER, sales_catalog

PAST = dt.timedelta(minutes=20)


async def _order(ids, items=None, session=None, now=None, channel="box_office"):
    items = items or [ItemRequest(price_class_id=ids["ga_class"], quantity=2)]
    return await create_order(
        ADMIN_ACTOR, session_id=session or ids["ga_session"], channel=channel, buyer=BUYER, items=items, now=now
    )


async def test_cash_payment_computes_change_and_issues_signed_tickets():
    ids = await sales_catalog()
    order = await _order(
        ids, [ItemRequest(seat_id=ids["vip_seats"][0]), ItemRequest(seat_id=ids["vip_seats"][1])], ids["seated_session"]
    )
    with pytest.raises(InvalidInput) as short:
        await confirm_window_payment(ADMIN_ACTOR, order.code, "cash", tendered_fen=99999)
    assert short.value.field == "tendered_fen"
    with pytest.raises(InvalidInput):
        await confirm_window_payment(ADMIN_ACTOR, order.code, "cheque")
    assert await Payment.count() == 0 and await Ticket.count() == 0
    paid = await confirm_window_payment(ADMIN_ACTOR, order.code, "cash", tendered_fen=120000)
    assert (paid.status, paid.outcome, paid.change_fen) == ("paid", "accepted", 20000)
    full = await get_order(order.code)
    assert [(p["method"], p["amount_fen"], p["tendered_fen"], p["change_fen"]) for p in full["payments"]] == [
        ("cash", 100000, 120000, 20000)
    ]
    assert [e["status"] for e in full["events"]] == ["held", "paid"]
    tickets = full["tickets"]
    assert {t["seat"] for t in tickets} == set(ids["vip_seats"][:2])
    for ticket in tickets:
        assert len(ticket["code"]) == 119
        claim = keyring().verify(ticket["code"])
        assert (claim.ticket_id, claim.session_id, claim.concession) == (ticket["id"], ids["seated_session"], False)
    sold = await SessionSeat.select(SessionSeat.seat).where(SessionSeat.status == "sold")
    assert {s["seat"] for s in sold} == set(ids["vip_seats"][:2])
    with pytest.raises(Conflict):
        await confirm_window_payment(ADMIN_ACTOR, order.code, "card", reference="88020461")
    assert await Payment.count() == 1 and await Ticket.count() == 2


async def test_concession_tickets_carry_the_concession_flag_and_audit_comes_first():
    ids = await sales_catalog()
    order = await _order(
        ids,
        [
            ItemRequest(
                price_class_id=ids["ga_class"],
                quantity=1,
                concession="senior",
                id_type="id_card",
                id_number="110101195001011234",
            )
        ],
    )
    with pytest.raises(Conflict):
        await confirm_window_payment(ADMIN_ACTOR, order.code, "card", reference="88020461")  # waits for the auditor
    from db.sales.ordering.orders import approve_order

    await approve_order(ADMIN_ACTOR, order.code)
    paid = await confirm_window_payment(ADMIN_ACTOR, order.code, "mobile", reference="88020461")
    ticket = (await get_order(order.code))["tickets"][0]
    assert paid.outcome == "accepted" and ticket["concession"] == "senior" and ticket["price_fen"] == 2500
    assert keyring().verify(ticket["code"]).concession is True


async def test_late_window_payment_reholds_free_stock_or_is_refused():
    ids = await sales_catalog()
    past = dt.datetime.now(dt.UTC) - PAST
    late = await _order(ids, now=past)
    paid = await confirm_window_payment(ADMIN_ACTOR, late.code, "card", reference="88020461")
    assert (paid.status, paid.outcome) == ("paid", "reheld")
    assert (await availability(ids["ga_session"]))["price_classes"][0]["sold"] == 2
    gone = await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][0])], ids["seated_session"], now=past)
    await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][0])], ids["seated_session"])  # someone else takes the seat
    with pytest.raises(Conflict):
        await confirm_window_payment(ADMIN_ACTOR, gone.code, "card", reference="88020461")
    assert (await get_order(gone.code))["status"] == "expired"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_sandbox_checkout_and_signed_callback_are_idempotent():
    ids = await sales_catalog()
    order = await _order(ids)
    checkout = await start_online_payment(ADMIN_ACTOR, order.code)
    sandbox = provider("sandbox")
    body, signature = sandbox.callback_body(checkout.reference, order.code, order.total_fen)
    collected = _Collect()
    logging.getLogger("ticketcenter.payments").addHandler(collected)
    async with http_client() as client:
        page = await client.get(checkout.url)
        assert page.status_code == 200 and order.code in page.text and "100.00" in page.text
        forged = await client.post(
            "/api/payments/sandbox/callback", content=body, headers={"X-Sandbox-Signature": "0" * 64}
        )
        assert forged.status_code == 422 and forged.json()["status"] == 422
        assert (await get_order(order.code))["status"] == "held"
        results = [
            (
                await client.post(
                    "/api/payments/sandbox/callback", content=body, headers={"X-Sandbox-Signature": signature}
                )
            ).json()
            for _ in range(3)
        ]
        assert (await client.post("/api/payments/paypal/callback", content=body)).status_code == 404
    assert results[0] == {"order_code": order.code, "status": "paid", "outcome": "accepted"}
    assert [r["outcome"] for r in results[1:]] == ["ignored", "ignored"]
    full = await get_order(order.code)
    assert full["status"] == "paid" and len(full["tickets"]) == 2
    assert [(p["method"], p["status"]) for p in full["payments"]] == [("sandbox", "succeeded")]
    logging.getLogger("ticketcenter.payments").removeHandler(collected)
    logged = "\n".join(collected.lines)
    assert "payment callback ignored" in logged
    for secret in (BUYER.name, BUYER.phone, BUYER.email):
        assert secret not in logged


async def test_callbacks_for_unknown_payments_wrong_amounts_and_paid_orders_change_nothing():
    ids = await sales_catalog()
    sandbox = provider("sandbox")
    order = await _order(ids)
    checkout = await start_online_payment(ADMIN_ACTOR, order.code)
    async with http_client() as client:

        async def notify(reference, code, amount):
            body, signature = sandbox.callback_body(reference, code, amount)
            return (
                await client.post(
                    "/api/payments/sandbox/callback", content=body, headers={"X-Sandbox-Signature": signature}
                )
            ).json()

        assert (await notify("SBXNOSUCH", order.code, order.total_fen))["outcome"] == "ignored"
        assert (await notify(checkout.reference, order.code, order.total_fen - 1))["outcome"] == "ignored"
        assert (await get_order(order.code))["status"] == "held"
        second = await start_online_payment(ADMIN_ACTOR, order.code)
        await confirm_window_payment(ADMIN_ACTOR, order.code, "card", reference="88020461")
        assert (await notify(second.reference, order.code, order.total_fen))["outcome"] == "ignored"
    payments = (await get_order(order.code))["payments"]
    assert [p["status"] for p in payments] == ["pending", "pending", "succeeded"]
    assert await Ticket.count() == 2


async def test_sandbox_payment_after_expiry_reholds_or_refunds():
    ids = await sales_catalog()
    past = dt.datetime.now(dt.UTC) - PAST
    sandbox_page = re.compile(r'data-testid="outcome">([^<]+)<')
    kept = await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][0])], ids["seated_session"], now=past)
    lost = await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][1])], ids["seated_session"], now=past)
    kept_checkout = await start_online_payment(ADMIN_ACTOR, kept.code, now=past)
    lost_checkout = await start_online_payment(ADMIN_ACTOR, lost.code, now=past)
    await _order(
        ids, [ItemRequest(seat_id=ids["vip_seats"][1])], ids["seated_session"]
    )  # expires `lost`, takes its seat
    async with http_client() as client:
        from tests.helpers import post_form

        kept_page = await post_form(client, kept_checkout.url)
        lost_page = await post_form(client, lost_checkout.url)
    assert kept_page.status_code == 200 and sandbox_page.search(kept_page.text)
    assert (await get_order(kept.code))["status"] == "paid"
    assert [e["status"] for e in (await get_order(kept.code))["events"]] == ["held", "expired", "paid"]
    lost_order = await get_order(lost.code)
    assert lost_order["status"] == "refunded" and not lost_order["tickets"]
    assert [(p["status"], p["outcome"]) for p in lost_order["payments"]] == [("refunded", "refund_due")]
    refund = await PaymentRefund.select(PaymentRefund.amount_fen, PaymentRefund.status).first()
    assert refund == {"amount_fen": 50000, "status": "done"}
    assert "退回" in lost_page.text or "refunded" in lost_page.text


async def test_a_late_payment_is_refunded_outside_the_write_transaction_and_recorded_once(monkeypatch):
    """Record the refund as due and commit, call the provider with no transaction open, record the outcome
    idempotently; a refund the provider refuses stays pending, and sending it again records it once."""
    from db.audit.tables import AuditEntry
    from db.sales.payments import operations
    from db.sales.tables import Order

    ids = await sales_catalog()
    past = dt.datetime.now(dt.UTC) - PAST
    lost = await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][1])], ids["seated_session"], now=past)
    checkout = await start_online_payment(ADMIN_ACTOR, lost.code, now=past)
    await _order(ids, [ItemRequest(seat_id=ids["vip_seats"][1])], ids["seated_session"])  # takes its seat
    sandbox = provider("sandbox")
    calls = []

    def refuse(reference, amount_fen):
        calls.append((reference, amount_fen, Order._meta.db.current_transaction.get()))
        return False

    monkeypatch.setattr(sandbox, "refund", refuse)
    body, signature = sandbox.callback_body(checkout.reference, lost.code, 50000)
    result = await operations.handle_payment_callback("sandbox", body, signature)
    assert result.outcome == "refund_due" and result.status == "refunded"
    assert calls == [(checkout.reference, 50000, None)]  # no transaction open while the provider works
    refund = await PaymentRefund.select(PaymentRefund.id, PaymentRefund.status).first()
    assert refund["status"] == "pending"  # the intent is committed, the money not yet back
    assert [(p["status"], p["outcome"]) for p in (await get_order(lost.code))["payments"]] == [
        ("succeeded", "refund_due")
    ]
    monkeypatch.setattr(sandbox, "refund", lambda reference, amount_fen: True)
    due = operations._DueRefund(refund["id"], result.payment_id, lost.code, checkout.reference, 50000)
    sent = [await operations.send_refund(sandbox, ADMIN_ACTOR, due) for _ in range(2)]
    assert sent == [True, False]
    assert await PaymentRefund.select(PaymentRefund.status).first() == {"status": "done"}
    assert [(p["status"], p["outcome"]) for p in (await get_order(lost.code))["payments"]] == [
        ("refunded", "refund_due")
    ]
    assert await AuditEntry.count().where(AuditEntry.action == "payment.refund") == 1
