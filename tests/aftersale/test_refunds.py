"""Refunds (R5.3, R5.2): void first then money, by the original means, with the ledger; refusals leave
nothing half-written; approval above the threshold by another supervisor."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.catalog.tables import SessionSeat
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.finance import ledger
from db.finance.tables import LedgerEntry
from db.gate.redeem import redeem
from db.sales.aftersale import policies
from db.sales.aftersale.refunds import RefundRefused, approve_refund, pay_out, quote_refund, request_refund
from db.sales.aftersale.rules import DEFAULT_RULES, Rules, Tier
from db.sales.aftersale.tables import Refund, RefundTicket
from db.sales.queries import get_order
from db.sales.tables import Order, Partner, Ticket
from tests.aftersale.support import OTHER_SUPERVISOR, SELLER, SUPERVISOR, paid_ga, paid_partner_seats, paid_seats, staff
from tests.sales.support import sales_catalog


async def _tickets(code: str) -> list[dict]:
    order = await Order.select(Order.id).where(Order.code == code).first()
    return await Ticket.select().where(Ticket.order == order["id"]).order_by(Ticket.id)


async def _written() -> tuple[int, int, int]:
    return (
        await Refund.count(),
        await RefundTicket.count(),
        await LedgerEntry.count().where(LedgerEntry.kind != "sale").where(LedgerEntry.kind != "payment"),
    )


async def test_cash_refund_of_a_whole_order_voids_the_codes_frees_the_seats_and_writes_the_ledger():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:2])
    tickets = await _tickets(code)
    first = (await policies.history())[-1].version
    assert {t["policy_version"] for t in tickets} == {first}  # the contract is recorded on each ticket
    q = await quote_refund(code)
    assert (q.allowed, q.price_fen, q.fee_fen, q.refund_fen, q.policy_version) == (True, 100000, 5000, 95000, first)
    result = await request_refund(
        SELLER, code, channel="box_office", proof="购票凭证与身份证原件", id_number="110101199003071234"
    )
    assert (result.status, result.method, result.fee_fen, result.refund_fen) == ("done", "cash", 5000, 95000)
    assert sorted(result.ticket_ids) == [t["id"] for t in tickets]
    assert {t["status"] for t in await _tickets(code)} == {"revoked"}
    order = await get_order(code)
    assert order["status"] == "refunded" and order["events"][-1]["status"] == "refunded"
    seats = await SessionSeat.select(SessionSeat.status).where(SessionSeat.seat.is_in(ids["vip_seats"][:2]))
    assert {s["status"] for s in seats} == {"free"}
    row = await Refund.select().where(Refund.id == result.id).output(load_json=True).first()
    assert row["id_masked"] != "110101199003071234" and row["id_masked"].startswith("1101")
    assert row["breakdown"]["tier"]["percent"] == 5 and len(row["breakdown"]["lines"]) == 2
    balance = await ledger.balance(order["id"])
    assert balance == {"sale": 0, "payment": 100000, "refund": -95000, "fee_kept": 5000, "price_difference": 0}
    assert sum(balance[k] for k in ledger.MONEY_KINDS) == sum(balance[k] for k in ledger.REVENUE_KINDS)
    cash = await LedgerEntry.select().where((LedgerEntry.kind == "refund") & (LedgerEntry.drawer_id == SELLER.user_id))
    assert [c["amount_fen"] for c in cash] == [-95000]
    assert await AuditEntry.exists().where(AuditEntry.action == "refund.request")
    # The gate refuses the code at once.
    verdict = await redeem(tickets[0]["code"], "T-N")
    assert verdict["status"] == "revoked"


async def test_single_ticket_then_again_is_refused_and_nothing_half_written():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:2])
    tickets = await _tickets(code)
    done = await request_refund(SELLER, code, [tickets[0]["id"]], channel="box_office")
    assert done.refund_fen == 47500 and (await get_order(code))["status"] == "paid"
    before = await _written()
    for asked, reason in (
        ([tickets[0]["id"]], "already_refunded"),
        ([tickets[0]["id"], tickets[1]["id"]], "already_refunded"),
        ([999999], "foreign_ticket"),
        ([], "no_tickets"),
    ):
        with pytest.raises(RefundRefused) as refused:
            await request_refund(SELLER, code, asked, channel="box_office")
        assert refused.value.reason == reason and refused.value.status_code == 409
    assert await _written() == before
    assert (await Ticket.select(Ticket.status).where(Ticket.id == tickets[1]["id"]).first())["status"] == "issued"
    with pytest.raises(NotFound):
        await request_refund(SELLER, "NOSUCHORDER", channel="box_office")


async def test_a_used_ticket_is_not_refunded_and_too_late_is_refused():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:1])
    ticket = (await _tickets(code))[0]
    from db.catalog.tables import EventSession
    from tests.helpers import utc

    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    assert (await redeem(ticket["code"], "T-N"))["status"] == "ok"
    with pytest.raises(RefundRefused) as refused:
        await request_refund(SELLER, code, channel="box_office")
    assert refused.value.reason == "already_used"
    assert (await quote_refund(code)).reason == "already_used"
    assert await Refund.count() == 0 and (await _tickets(code))[0]["status"] == "issued"
    late = await paid_ga(ids)  # the park session starts in less than 24 h
    assert (await quote_refund(late)).reason == "too_late"
    with pytest.raises(RefundRefused, match="Too late"):
        await request_refund(SELLER, late, channel="box_office")


async def test_card_refund_needs_the_reversal_reference_at_the_window():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:1], method="card")
    with pytest.raises(InvalidInput) as missing:
        await request_refund(SELLER, code, channel="box_office")
    assert missing.value.field == "reference" and await Refund.count() == 0
    assert (await _tickets(code))[0]["status"] == "issued"
    done = await request_refund(SELLER, code, channel="box_office", reference="POS-REV-0042")
    entry = await LedgerEntry.select().where(LedgerEntry.kind == "refund").first()
    assert done.status == "done" and (entry["method"], entry["reference"], entry["drawer_id"]) == (
        "card",
        "POS-REV-0042",
        None,
    )


async def test_above_the_threshold_a_supervisor_approves_never_the_requester():
    ids = await sales_catalog()
    await staff()
    strict = Rules(DEFAULT_RULES.refund_tiers, exchange_tiers=DEFAULT_RULES.exchange_tiers, approval_above_fen=50000)
    await policies.save_version(SUPERVISOR, strict.as_json(), reason="大额退票需主管审批", event_id=ids["show"])
    code = await paid_seats(ids, ids["vip_seats"][:2])
    asked = await request_refund(SUPERVISOR, code, channel="box_office")
    assert asked.status == "requested"
    assert {t["status"] for t in await _tickets(code)} == {"revoked"}  # void first, money after approval
    assert not await LedgerEntry.exists().where(LedgerEntry.kind == "refund")
    with pytest.raises(PermissionDenied):
        await approve_refund(SUPERVISOR, asked.id)
    with pytest.raises(PermissionDenied):
        await approve_refund(SELLER, asked.id)
    approved = await approve_refund(OTHER_SUPERVISOR, asked.id)
    assert approved.status == "done"
    with pytest.raises(Conflict):
        await approve_refund(OTHER_SUPERVISOR, asked.id)
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 1
    with pytest.raises(Conflict):
        await pay_out(SELLER, asked.id)


async def test_a_later_policy_change_never_worsens_a_sold_ticket():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:1])
    harsh = Rules((Tier(100, 50),), exchange_allowed=False)
    await policies.save_version(SUPERVISOR, harsh.as_json(), reason="新规", event_id=ids["show"])
    assert (await quote_refund(code)).fee_fen == 2500  # the purchase version: 5%
    later = await paid_seats(ids, ids["vip_seats"][1:2])
    assert (await quote_refund(later)).reason == "too_late"  # bought under the new version
    kind = await policies.in_force(ids["show"])
    assert kind.rules == harsh


async def test_partner_order_is_credited_to_the_partner_and_policy_edit_needs_the_permission():
    ids = await sales_catalog()
    await staff()
    partner = (await Partner.select(Partner.id).first())["id"]
    code = await paid_partner_seats(ids, ids["vip_seats"][:1], partner)
    done = await request_refund(SELLER, code, channel="partner", partner_id=partner, idempotency_key="k-1")
    again = await request_refund(SELLER, code, channel="partner", partner_id=partner, idempotency_key="k-1")
    assert done.method == "partner" and done.status == "done" and again.id == done.id
    entry = await LedgerEntry.select().where(LedgerEntry.kind == "refund").first()
    assert entry["partner"] == partner and entry["amount_fen"] == -47500
    with pytest.raises(PermissionDenied):
        await policies.save_version(SELLER, DEFAULT_RULES.as_json(), reason="x")
    with pytest.raises(InvalidInput):
        await policies.save_version(SUPERVISOR, DEFAULT_RULES.as_json(), reason="  ")


async def test_ledger_entries_cannot_be_updated():
    ids = await sales_catalog()
    await staff()
    await paid_seats(ids, ids["vip_seats"][:1])
    with pytest.raises(Exception, match="immutable"):
        await LedgerEntry.update({LedgerEntry.amount_fen: 1}).where(LedgerEntry.id > 0)
