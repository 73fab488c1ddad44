"""Exchanges (R5.4, issue 11): another seat, class or session of the same event within the exchange window;
the old code void at every gate (revocation log), the new ticket issued and e-mailed, the difference charged
or paid back as a ledger entry; refusals leave nothing half-written."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.catalog.tables import SessionSeat
from db.core.errors import Conflict, InvalidInput
from db.finance import ledger
from db.finance.tables import LedgerEntry
from db.gate.redeem import redeem
from db.sales.aftersale import policies
from db.sales.aftersale.exchanges import Target, exchange, quote_exchange
from db.sales.aftersale.refunds import RefundRefused, request_refund
from db.sales.aftersale.rules import Rules, Tier
from db.sales.aftersale.tables import Exchange, ExchangeTicket, Revocation
from db.sales.tables import Order, Ticket
from tests.aftersale.support import SELLER, SUPERVISOR, paid_seats, second_show_session, staff
from tests.helpers import utc
from tests.sales.support import sales_catalog
from tests.smtp import smtp_server

FEE_10 = Rules((Tier(48, 5), Tier(24, 20)), exchange_tiers=(Tier(48, 10), Tier(24, 30)))


async def _ticket(code: str) -> dict:
    return await Ticket.select().where(Ticket.order.code == code).order_by(Ticket.id).first()


async def _seat_status(session: int, seat: int) -> str:
    row = (
        await SessionSeat.select(SessionSeat.status)
        .where((SessionSeat.session == session) & (SessionSeat.seat == seat))
        .first()
    )
    return row["status"]


async def _books_balance(code: str) -> dict:
    order = await Order.select(Order.id).where(Order.code == code).first()
    balance = await ledger.balance(order["id"])
    assert sum(balance[k] for k in ledger.MONEY_KINDS) == sum(balance[k] for k in ledger.REVENUE_KINDS), balance
    return balance


async def _written() -> tuple[int, ...]:
    return (
        await Exchange.count(),
        await ExchangeTicket.count(),
        await Revocation.count(),
        await LedgerEntry.count(),
        await Order.count(),
        await Ticket.count().where(Ticket.status == "issued"),
    )


async def test_another_seat_voids_the_old_code_issues_and_mails_the_new_ticket(monkeypatch):
    ids = await sales_catalog()
    await staff()
    vip = ids["vip_seats"]
    code = await paid_seats(ids, [vip[0]])
    old = await _ticket(code)
    target = Target(ids["seated_session"], ids["vip_class"], (vip[1],))
    q = await quote_exchange(code, None, target)
    assert (q.allowed, q.fee_fen, q.refund_fen, q.new_price_fen, q.difference_fen) == (True, 0, 50000, 50000, 0)
    with smtp_server(monkeypatch) as mailbox:
        done = await exchange(SELLER, code, None, target, channel="box_office", method="cash")
    assert done.ticket_ids == [old["id"]] and len(done.new_ticket_ids) == 1 and done.difference_fen == 0
    assert (await _ticket(code))["status"] == "revoked"
    new = await Ticket.select().where(Ticket.id == done.new_ticket_ids[0]).first()
    assert (new["status"], new["seat"], new["session"]) == ("issued", vip[1], ids["seated_session"])
    assert new["policy_version"] == old["policy_version"] and new["issued_at"] == old["issued_at"]  # the contract
    assert await _seat_status(ids["seated_session"], vip[0]) == "free"
    assert await _seat_status(ids["seated_session"], vip[1]) == "sold"
    new_order = await Order.select().where(Order.code == done.new_order_code).first()
    assert new_order["status"] == "paid" and new_order["buyer_name"] == "王小明"
    assert await Revocation.exists().where(Revocation.ticket == old["id"])  # offline gates get it in the delta
    assert (await redeem(old["code"], "T-N"))["status"] == "revoked"
    assert await AuditEntry.exists().where((AuditEntry.action == "exchange.create") & (AuditEntry.object_id == code))
    [mail] = mailbox.emails()
    assert done.new_order_code in mail["Subject"] and new["code"] in mail.get_body(("plain",)).get_content()
    assert await _books_balance(code) == {**dict.fromkeys(ledger.KINDS, 0), "payment": 50000, "refund": -50000}
    assert await _books_balance(done.new_order_code) == {
        **dict.fromkeys(ledger.KINDS, 0),
        "sale": 50000,
        "payment": 50000,
    }
    # The old ticket cannot be exchanged or refunded again; the new one can be refunded.
    with pytest.raises(RefundRefused) as again:
        await exchange(SELLER, code, [old["id"]], target, channel="box_office", method="cash")
    assert again.value.reason == "already_refunded"
    refund = await request_refund(SELLER, done.new_order_code, channel="box_office")
    assert refund.status == "done" and refund.method == "cash"


async def test_a_cheaper_class_pays_back_the_difference_less_the_fee_and_a_dearer_one_charges_it():
    ids = await sales_catalog()
    await staff()
    await policies.save_version(SUPERVISOR, FEE_10.as_json(), reason="换票收 10%", event_id=ids["show"])
    code = await paid_seats(ids, [ids["vip_seats"][0]])
    a_seats = [s for s in ids["seats"] if s not in ids["vip_seats"]]
    down = await exchange(
        SELLER,
        code,
        None,
        Target(ids["seated_session"], ids["a_class"], (a_seats[0],)),
        channel="box_office",
        method="cash",
    )
    # 50000 less the 10% fee = 45000 carried; the A seat costs 20000: 25000 back in cash from the drawer.
    assert (down.fee_fen, down.new_price_fen, down.difference_fen) == (5000, 20000, -25000)
    assert down.breakdown["tier"]["percent"] == 10 and down.breakdown["difference_fen"] == -25000
    assert await _books_balance(code) == {
        **dict.fromkeys(ledger.KINDS, 0),
        "payment": 50000,
        "refund": -45000,
        "sale": 0,
        "fee_kept": 5000,
    }
    balance = await _books_balance(down.new_order_code)
    assert (balance["sale"], balance["payment"], balance["price_difference"]) == (20000, 45000, -25000)
    drawer = await LedgerEntry.select(LedgerEntry.amount_fen).where(
        (LedgerEntry.kind == "price_difference") & (LedgerEntry.drawer_id == SELLER.user_id)
    )
    assert [d["amount_fen"] for d in drawer] == [-25000]
    # Back up to VIP by card: 2000 fee (10% of 20000), 18000 carried, 32000 charged with the card's reference.
    target = Target(ids["seated_session"], ids["vip_class"], (ids["vip_seats"][2],))
    with pytest.raises(InvalidInput):
        await exchange(SELLER, down.new_order_code, None, target, channel="box_office", method="card")
    up = await exchange(
        SELLER, down.new_order_code, None, target, channel="box_office", method="card", reference="POS-778812"
    )
    assert (up.fee_fen, up.difference_fen, up.method) == (2000, 32000, "card")
    entry = (
        await LedgerEntry.select()
        .where((LedgerEntry.kind == "price_difference") & (LedgerEntry.amount_fen == 32000))
        .first()
    )
    assert (entry["method"], entry["reference"], entry["drawer_id"]) == ("card", "POS-778812", None)
    await _books_balance(up.new_order_code)


async def test_another_session_of_the_same_event():
    ids = await sales_catalog()
    await staff()
    later = await second_show_session(ids)
    code = await paid_seats(ids, ids["vip_seats"][:2])
    seats = (
        await SessionSeat.select(SessionSeat.seat)
        .where((SessionSeat.session == later) & (SessionSeat.status == "free"))
        .order_by(SessionSeat.seat)
    )
    vip_later = [s["seat"] for s in seats if s["seat"] in ids["vip_seats"]]
    classes = {
        c["seat_class"]: c["id"]
        for c in await SessionSeat.select(
            SessionSeat.price_class.seat_class.as_alias("seat_class"), SessionSeat.price_class.as_alias("id")
        ).where(SessionSeat.session == later)
    }
    done = await exchange(
        SELLER, code, None, Target(later, classes["VIP"], tuple(vip_later[:2])), channel="box_office", method="cash"
    )
    new = await Ticket.select(Ticket.session, Ticket.seat, Ticket.status).where(Ticket.id.is_in(done.new_ticket_ids))
    assert {(t["session"], t["status"]) for t in new} == {(later, "issued")}
    assert (await Order.select(Order.session).where(Order.code == done.new_order_code).first())["session"] == later
    for seat in ids["vip_seats"][:2]:
        assert await _seat_status(ids["seated_session"], seat) == "free"
        assert await _seat_status(later, seat) == "sold"


async def test_refusals_say_why_and_write_nothing():
    ids = await sales_catalog()
    await staff()
    vip = ids["vip_seats"]
    code = await paid_seats(ids, [vip[0]])
    other = await paid_seats(ids, [vip[1]])
    target = Target(ids["seated_session"], ids["vip_class"], (vip[2],))
    before = await _written()
    cases = [
        # too close to the start: the exchange tiers end 24 h before
        (RefundRefused, dict(target=target, now=utc(days=3, hours=-23)), "exchange_too_late"),
        (RefundRefused, dict(target=target, ticket_ids=[(await _ticket(other))["id"]]), "foreign_ticket"),
        (Conflict, dict(target=Target(ids["seated_session"], ids["vip_class"], (vip[1],))), "taken"),
        (InvalidInput, dict(target=Target(ids["seated_session"], ids["vip_class"], (vip[0],))), "same"),
        (InvalidInput, dict(target=Target(ids["seated_session"], ids["a_class"], (vip[2],))), "class"),
        (InvalidInput, dict(target=Target(ids["ga_session"], ids["ga_class"])), "event"),
        (InvalidInput, dict(target=Target(ids["seated_session"], ids["vip_class"])), "no seat"),
    ]
    for error, kwargs, why in cases:
        with pytest.raises(error) as refused:
            await exchange(
                SELLER,
                code,
                kwargs.get("ticket_ids"),
                kwargs["target"],
                channel="box_office",
                method="cash",
                now=kwargs.get("now"),
            )
        if error is RefundRefused:
            assert refused.value.reason == why
        assert await _written() == before, why
    await policies.save_version(
        SUPERVISOR, Rules((Tier(48, 5),), exchange_allowed=False).as_json(), reason="不换票", event_id=ids["show"]
    )
    third = await paid_seats(ids, [vip[3]])
    with pytest.raises(RefundRefused) as no:
        await exchange(SELLER, third, None, target, channel="box_office", method="cash")
    assert no.value.reason == "exchange_not_allowed"
    assert (await _ticket(third))["status"] == "issued" and await _seat_status(ids["seated_session"], vip[2]) == "free"
