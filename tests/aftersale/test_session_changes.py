"""Session changes (issue 11; R6.1, R9.3): a time or venue change once with a reason and the buyers' free
choice; bulk cancellation and postponement with a dry run, a second person's approval, and a job that does
each order exactly once (void first, fee-free), with a report, a retry and a provider rate limit; e-mails
reach a real SMTP server."""

from __future__ import annotations

import asyncio
import time

import pytest

from db.audit.tables import AuditEntry
from db.catalog.tables import EventSession, SessionSeat
from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.finance import ledger
from db.finance.tables import LedgerEntry
from db.gate.redeem import redeem
from db.sales.aftersale.refunds import request_refund
from db.sales.aftersale.tables import Refund, RefundTicket, Revocation
from db.sales.queries import get_order
from db.sales.tables import Delivery, Order, OrderEvent, SmsMessage, Ticket
from db.sessionchange import job
from db.sessionchange.operations import (
    CANCEL,
    POSTPONE,
    approve,
    change_session,
    choose,
    figures,
    item_of,
    notices,
    progress,
    propose,
    reject,
    report,
    retry_failed,
    token,
)
from db.sessionchange.tables import ChangeOrder, SessionChange
from tests.aftersale.support import (
    OTHER_SUPERVISOR,
    SELLER,
    SUPERVISOR,
    paid_ga,
    paid_partner_seats,
    paid_seats,
    staff,
)
from tests.helpers import ADMIN_ACTOR, utc
from tests.sales.support import sales_catalog
from tests.smtp import smtp_server

AUDITOR = Actor(4, "孙丽", "auditor")


async def _partner() -> int:
    from db.sales.tables import Partner

    return (await Partner.select(Partner.id).first())["id"]


async def _session_with_orders(ids: dict) -> list[str]:
    """Four paid orders on the seated session: cash, card, mobile and a partner's (8 VIP/A seats)."""
    seats = ids["seats"]
    return [
        await paid_seats(ids, seats[0:2], "cash"),
        await paid_seats(ids, seats[2:4], "card"),
        await paid_seats(ids, seats[4:6], "mobile"),
        await paid_partner_seats(ids, seats[6:8], await _partner()),
    ]


async def test_dry_run_shows_orders_tickets_and_money_by_method_and_channel_and_changes_nothing():
    ids = await sales_catalog()
    await staff()
    await _session_with_orders(ids)
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="主演因病无法演出")
    change = await SessionChange.select().where(SessionChange.id == change_id).output(load_json=True).first()
    dry = change["figures"]
    assert (dry["orders"], dry["tickets"]) == (4, 8)
    by = {(line["method"], line["channel"]): line for line in dry["lines"]}
    assert set(by) == {("cash", "box_office"), ("card", "box_office"), ("mobile", "box_office"), ("partner", "partner")}
    assert by[("cash", "box_office")]["amount_fen"] == 100000  # two VIP seats at 500 yuan
    assert dry["amount_fen"] == sum(line["amount_fen"] for line in dry["lines"])
    assert dry == await figures(ids["seated_session"])
    session = await EventSession.select(EventSession.status).where(EventSession.id == ids["seated_session"]).first()
    assert session["status"] == "on_sale" and await ChangeOrder.count() == 0 and await Refund.count() == 0
    with pytest.raises(Conflict):  # one under way at a time
        await propose(OTHER_SUPERVISOR, ids["seated_session"], CANCEL, reason="again")


async def test_the_proposer_never_approves_a_seller_cannot_propose_and_bad_input_is_refused():
    ids = await sales_catalog()
    await staff()
    with pytest.raises(PermissionDenied):
        await propose(SELLER, ids["seated_session"], CANCEL, reason="x")
    with pytest.raises(InvalidInput):
        await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="   ")
    with pytest.raises(InvalidInput):  # a postponement needs a later start
        await propose(SUPERVISOR, ids["seated_session"], POSTPONE, reason="场馆检修", starts_at=utc(days=1))
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="主演因病无法演出")
    with pytest.raises(PermissionDenied):
        await approve(SUPERVISOR, change_id)
    with pytest.raises(PermissionDenied):
        await approve(SELLER, change_id)
    assert (await SessionChange.select(SessionChange.status).first())["status"] == "proposed"
    await reject(AUDITOR, change_id)
    with pytest.raises(Conflict):
        await approve(OTHER_SUPERVISOR, change_id)


async def test_cancellation_refunds_every_order_once_fee_free_void_first_and_mails_each_buyer(monkeypatch):
    ids = await sales_catalog()
    await staff()
    codes = await _session_with_orders(ids)
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="主演因病无法演出")
    summary = await approve(AUDITOR, change_id)  # an auditor is a valid second person
    assert summary.orders == 4
    session = await EventSession.select(EventSession.status).where(EventSession.id == ids["seated_session"]).first()
    assert session["status"] == "cancelled"  # off sale at once
    with smtp_server(monkeypatch) as mailbox:
        assert await job.claim() == change_id
        assert await job.claim() is None  # leased: a second worker does not take it
        assert await job.run(change_id) == 4
        emails = mailbox.emails()
    assert sorted(m["To"] for m in emails) == ["xiaoming@example.cn"] * 4
    assert all("演出取消通知" in m["Subject"] and "不收手续费" in m.get_content() for m in emails)
    refunds = await Refund.select().order_by(Refund.id).output(load_json=True)
    assert (
        len(refunds) == 4 and {r["fee_fen"] for r in refunds} == {0} and {r["cause"] for r in refunds} == {"cancelled"}
    )
    assert {line["basis"] for r in refunds for line in r["breakdown"]["lines"]} == {"waived"}
    assert await RefundTicket.count() == 8 and await Revocation.count() == 8
    assert {t["status"] for t in await Ticket.select(Ticket.status)} == {"revoked"}
    free = await SessionSeat.select(SessionSeat.status).where(SessionSeat.seat.is_in(ids["seats"][:8]))
    assert {s["status"] for s in free} == {"free"}
    by_method = {r["method"]: r for r in refunds}
    # the partner is credited at once; cash waits for the window's pay-out, card and mobile for their reversal
    assert by_method["partner"]["status"] == "done" and by_method["cash"]["status"] == "approved"
    assert by_method["card"]["status"] == "approved" and by_method["mobile"]["status"] == "approved"
    partner_order = await Order.select(Order.id).where(Order.code == codes[3]).first()
    assert (await ledger.balance(partner_order["id"]))["refund"] == -(await get_order(codes[3]))["total_fen"]
    done = await progress(change_id)
    assert (done["total"], done["done"], done["failed"], done["notified"], done["percent"]) == (4, 4, 0, 4, 100)
    assert done["change"]["status"] == "done"
    assert await SmsMessage.count() == 4 and await Delivery.count().where(Delivery.kind == "email") == 4
    assert {r["mail_status"] for r in await ChangeOrder.select(ChangeOrder.mail_status)} == {"sent"}
    actions = {a["action"] for a in await AuditEntry.select(AuditEntry.action)}
    assert {"session.cancel.propose", "session.cancel.approve", "session.cancel.finish", "refund.request"} <= actions
    # a second run does nothing: each order exactly once
    assert await job.run(change_id) == 0 and await Refund.count() == 4


async def test_an_order_that_cannot_be_refunded_fails_alone_and_the_retry_does_it_once_fixed():
    ids = await sales_catalog()
    await staff()
    codes = await _session_with_orders(ids)
    tickets = await Ticket.select(Ticket.id, Ticket.code).where(Ticket.order.code == codes[1]).order_by(Ticket.id)
    # the gate admits one ticket of the card order (doors open early for a rehearsal audience, say)
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    assert (await redeem(tickets[0]["code"], "T-N"))["status"] == "ok"
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="暴雨红色预警")
    await approve(OTHER_SUPERVISOR, change_id)
    monkeypatch_chunk = job.chunk_size
    try:
        job.chunk_size = lambda: 10  # one chunk: the refused order makes it redo order by order
        await job.run(change_id)
    finally:
        job.chunk_size = monkeypatch_chunk
    failed = await report(change_id, "failed")
    assert [r["order.code"] for r in failed] == [codes[1]] and "already used" in failed[0]["failure"]
    assert await Refund.count() == 3
    state = await progress(change_id)
    assert (state["done"], state["failed"], state["change"]["status"]) == (3, 1, "done")
    # the used ticket is dealt with by hand (its unused one refunded at the window), then the retry finishes it
    await request_refund(SELLER, codes[1], [tickets[1]["id"]], channel="box_office", reference="POS-1")
    assert await retry_failed(SUPERVISOR, change_id) == 1
    assert await job.run(change_id) == 1
    assert await Refund.count() == 4  # the retry did not refund anything twice
    line = (await report(change_id))[1]
    assert line["status"] == "done" and line["failure"] == "nothing left to refund"


async def test_cancellation_gives_the_stock_back_into_the_allocations_it_was_sold_from():
    """The bulk refund gives the quota back as a single refund does: into each order line's allocation (here the
    partner's share and the open pool) and the class, so that the allocations add up to the class again."""
    from db.catalog.tables import PriceClass
    from db.inventory import allocations
    from db.inventory.tables import Allocation
    from db.sales.ordering.orders import ItemRequest, create_order
    from db.sales.payments.operations import pay_prepaid
    from tests.sales.support import BUYER

    ids = await sales_catalog()
    await staff()
    partner = await _partner()
    await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "partner", 20, partner_id=partner)
    for quantity in (3, 4):  # two orders from the partner's share
        order = await create_order(
            ADMIN_ACTOR, session_id=ids["ga_session"], channel="partner", buyer=BUYER, partner_id=partner,
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=quantity)],
        )  # fmt: skip
        await pay_prepaid(ADMIN_ACTOR, order.code, partner)
    await paid_ga(ids, 5)  # one from the pool at the window

    async def counts() -> dict:
        rows = await Allocation.select(Allocation.channel, Allocation.available)
        free = await PriceClass.select(PriceClass.available).where(PriceClass.id == ids["ga_class"]).first()
        return {**{r["channel"]: r["available"] for r in rows}, "class": free["available"]}

    assert await counts() == {"partner": 13, "pool": 25, "class": 38}
    change_id = await propose(SUPERVISOR, ids["ga_session"], CANCEL, reason="暴雨红色预警，景区闭园")
    await approve(OTHER_SUPERVISOR, change_id)
    assert await job.run(change_id) == 3 and await Refund.count() == 3
    after = await counts()
    assert after == {"partner": 20, "pool": 30, "class": 50} and after["partner"] + after["pool"] == after["class"]
    assert await RefundTicket.count() == 12


async def test_provider_refunds_respect_the_rate_limit(monkeypatch):
    from tests.shop.support import hold, order_code, pay_through_checkout, shop_client

    ids = await sales_catalog()
    await staff()
    async with shop_client() as client:
        for seat in ids["seats"][:6]:
            await pay_through_checkout(
                client, order_code(await hold(client, ids["seated_session"], seat_id=[str(seat)]))
            )
    monkeypatch.setenv("BULK_PROVIDER_RATE", "5")
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="场馆停电")
    await approve(OTHER_SUPERVISOR, change_id)
    started = time.monotonic()
    await job.run(change_id)
    elapsed = time.monotonic() - started
    refunds = await Refund.select(Refund.status, Refund.method)
    # Asked of the provider (not served here; its outcome over HTTP: test_provider_refund.py, test_bulk_kill.py)
    assert len(refunds) == 6 and {(r["method"], r["status"]) for r in refunds} == {("sandbox", "approved")}
    assert elapsed >= 1.0  # six calls at five per second take at least a second
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 0


async def test_postponement_moves_the_session_and_offers_keep_exchange_or_a_free_refund(monkeypatch):
    ids = await sales_catalog()
    await staff()
    codes = await _session_with_orders(ids)
    before = await EventSession.select().where(EventSession.id == ids["seated_session"]).first()
    later = before["starts_at"] + __import__("datetime").timedelta(days=7)
    change_id = await propose(
        SUPERVISOR, ids["seated_session"], POSTPONE, reason="场馆检修", starts_at=later, choice_until=utc(days=5)
    )
    await approve(OTHER_SUPERVISOR, change_id)
    after = await EventSession.select().where(EventSession.id == ids["seated_session"]).first()
    assert (
        after["starts_at"] == later and after["ends_at"] - after["starts_at"] == before["ends_at"] - before["starts_at"]
    )
    with smtp_server(monkeypatch) as mailbox:
        await job.run(change_id)
        emails = mailbox.emails()
    assert len(emails) == 4 and all("演出延期通知" in m["Subject"] for m in emails)
    assert await Refund.count() == 0  # nobody is refunded without asking
    links = [line for m in emails for line in m.get_content().splitlines() if "/shop/changes/" in line]
    item = item_of(links[0].rsplit("/", 1)[1])
    with pytest.raises(NotFound):
        item_of(links[0].rsplit("/", 1)[1][:-1] + "0")
    order = (await ChangeOrder.select(ChangeOrder.order.code).where(ChangeOrder.id == item).first())["order.code"]
    buyer = Actor.customer("test")
    await choose(buyer, item, "keep")
    done = await choose(buyer, item, "refund")  # free: the one quote, waived
    assert done.fee_fen == 0 and done.refund_fen == (await get_order(order))["total_fen"]
    assert (await Refund.select(Refund.cause).first())["cause"] == "event_change"
    with pytest.raises(Conflict):
        await choose(buyer, item, "refund")
    events = await OrderEvent.select(OrderEvent.note).where(OrderEvent.order.code == codes[0])
    assert any("场馆检修" in e["note"] for e in events)  # the order's history shows the postponement
    assert [n["kind"] for n in await notices(ids["seated_session"])] == ["postpone"]


async def test_a_change_of_time_happens_once_with_a_reason_and_the_deadline_closes_the_free_refund(monkeypatch):
    ids = await sales_catalog()
    await staff()
    await _session_with_orders(ids)
    with pytest.raises(PermissionDenied):
        await change_session(SELLER, ids["seated_session"], reason="x", starts_at=utc(days=4))
    with pytest.raises(InvalidInput):
        await change_session(SUPERVISOR, ids["seated_session"], reason="", starts_at=utc(days=4))
    summary = await change_session(
        SUPERVISOR, ids["seated_session"], reason="艺人航班调整", starts_at=utc(days=4), choice_until=utc(days=2)
    )
    assert summary.orders == 4
    with pytest.raises(Conflict):  # once
        await change_session(SUPERVISOR, ids["seated_session"], reason="again", starts_at=utc(days=5))
    with smtp_server(monkeypatch) as mailbox:
        await job.run(summary.id)
        assert len(mailbox.emails()) == 4 and "演出变更通知" in mailbox.emails()[0]["Subject"]
    item = (await ChangeOrder.select(ChangeOrder.id).first())["id"]
    assert item_of(token(item)) == item
    with pytest.raises(Conflict):  # after the deadline the ticket's own rules apply again
        await choose(Actor.customer("t"), item, "refund", now=utc(days=3))
    assert await Refund.count() == 0
    entry = await AuditEntry.select().where(AuditEntry.action == "session.change").output(load_json=True).first()
    assert entry["summary"] == "艺人航班调整" and entry["actor_name"] == SUPERVISOR.name


async def test_a_change_of_venue_moves_the_seats_and_refuses_a_venue_without_them():
    from db.catalog import operations as catalog
    from db.catalog.tables import Seat
    from tests.helpers import ADMIN_ACTOR, SMALL_THEATRE_CSV

    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["seats"][:2])
    small = await catalog.create_venue(
        ADMIN_ACTOR, "小剧场", "上海", "", "section,row,number,seat_class,x,y\n池座,9,9,A,1,1\n"
    )
    with pytest.raises(Conflict):
        await change_session(SUPERVISOR, ids["seated_session"], reason="换厅", venue_id=small)
    twin = await catalog.create_venue(ADMIN_ACTOR, "测试剧场二号厅", "上海", "", SMALL_THEATRE_CSV)
    await catalog.add_gate(ADMIN_ACTOR, twin, "T2-1", "二号厅门")
    await change_session(SUPERVISOR, ids["seated_session"], reason="一号厅设备故障，换到二号厅", venue_id=twin)
    order = await get_order(code)
    seats = await Seat.select(Seat.venue).where(Seat.id.is_in([t["seat"] for t in order["tickets"]]))
    assert {s["venue"] for s in seats} == {twin}
    session = await EventSession.select(EventSession.venue).where(EventSession.id == ids["seated_session"]).first()
    assert session["venue"] == twin


async def test_the_job_and_a_customer_refund_of_the_same_order_refund_it_once():
    ids = await sales_catalog()
    await staff()
    codes = await _session_with_orders(ids)
    change_id = await propose(SUPERVISOR, ids["seated_session"], CANCEL, reason="主演因病无法演出")
    await approve(OTHER_SUPERVISOR, change_id)
    await asyncio.gather(
        job.run(change_id),
        request_refund(SELLER, codes[0], channel="box_office", waived=True),
        return_exceptions=True,
    )
    assert await Refund.count() == 4 and await RefundTicket.count() == 8
    state = await progress(change_id)
    assert state["done"] + state["failed"] == 4 and state["pending"] == 0
