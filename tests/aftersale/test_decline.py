"""Declining a refund awaiting approval (issue 11, R5.3): the approver (never the requester) gives a reason;
the tickets, void since the request, are valid again with a `restored` entry in the numbered revocation log
that offline gates merge; their seats were never given back, so nobody else could have bought them; no money
moved; the order is paid again; audited. A decided refund cannot be declined."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.catalog.tables import EventSession, SessionSeat
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.finance.tables import LedgerEntry
from db.gate.devices import register_device
from db.inventory import stock
from db.sales.aftersale import policies
from db.sales.aftersale.refunds import approve_refund, decline_refund, request_refund
from db.sales.aftersale.rules import Rules, Tier
from db.sales.aftersale.tables import Refund, Revocation
from db.sales.tables import Order, Ticket
from scanner.client import GateClient
from tests.aftersale.support import OTHER_SUPERVISOR, SELLER, SUPERVISOR, paid_seats, staff
from tests.helpers import ADMIN_ACTOR, PASSWORD, http_client, post_form, sign_in, utc
from tests.sales.support import BUYER, sales_catalog
from tests.smtp import smtp_server

STRICT = Rules((Tier(48, 5), Tier(24, 20)), exchange_tiers=(Tier(48, 0),), approval_above_fen=10000)


async def _statuses(code: str) -> set[str]:
    return {t["status"] for t in await Ticket.select(Ticket.status).where(Ticket.order.code == code)}


async def test_declined_refund_restores_the_tickets_online_and_at_an_offline_gate(tmp_path):
    ids = await sales_catalog()
    await staff()
    await policies.save_version(SUPERVISOR, STRICT.as_json(), reason="大额退票需审批", event_id=ids["show"])
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    seats = ids["vip_seats"][:2]
    code = await paid_seats(ids, seats)
    tickets = await Ticket.select(Ticket.id, Ticket.code).where(Ticket.order.code == code).order_by(Ticket.id)
    await register_device(ADMIN_ACTOR, "T-N", "北门闸机", "token-for-T-N-decline")
    gate = GateClient("T-N", journal_path=tmp_path / "j.jsonl", cache_path=tmp_path / "c.json")
    await gate._connect()
    ledger_before = await LedgerEntry.count()
    refund = await request_refund(SELLER, code, channel="box_office", proof="ticket", id_number="110101199003071234")
    assert refund.status == "requested" and await _statuses(code) == {"revoked"}
    # Void first, but the seats stay the buyer's while the refund waits: nobody else can take them.
    for seat in seats:
        row = (
            await SessionSeat.select(SessionSeat.status)
            .where((SessionSeat.session == ids["seated_session"]) & (SessionSeat.seat == seat))
            .first()
        )
        assert row["status"] == "sold"
    assert not await stock.hold_seats(ids["seated_session"], seats, "SOMEONE-ELSE", None)
    await gate.refresh_revocations()
    assert {t["id"] for t in tickets} <= gate.cache.revoked
    gate.online = False
    assert (await gate.scan(tickets[0]["code"]))["status"] == "revoked"
    gate.online = True

    with pytest.raises(PermissionDenied):  # a seller does not decide refunds
        await decline_refund(SELLER, refund.id, reason="x")
    with pytest.raises(InvalidInput):
        await decline_refund(SUPERVISOR, refund.id, reason="  ")
    declined = await decline_refund(SUPERVISOR, refund.id, reason="购票凭证与身份证不符")
    assert declined.status == "declined" and await _statuses(code) == {"issued"}
    row = await Refund.select().where(Refund.id == refund.id).first()
    assert (row["status"], row["decline_reason"], row["approved_by_name"]) == (
        "declined",
        "购票凭证与身份证不符",
        "张伟",
    )
    assert await LedgerEntry.count() == ledger_before  # no money moved
    assert (await Order.select(Order.status).where(Order.code == code).first())["status"] == "paid"
    assert await AuditEntry.exists().where((AuditEntry.action == "refund.decline") & (AuditEntry.object_id == code))
    restored = await Revocation.select().where(Revocation.restored == True)  # noqa: E712
    assert {r["ticket"] for r in restored} == {t["id"] for t in tickets}
    # The offline gate merges the restoration on its next sync and admits the ticket without the database.
    await gate.refresh_revocations()
    assert not ({t["id"] for t in tickets} & gate.cache.revoked)
    gate.online = False
    assert (await gate.scan(tickets[0]["code"]))["status"] == "ok"
    gate.online = True
    await gate.close()
    with pytest.raises(Conflict):
        await decline_refund(OTHER_SUPERVISOR, refund.id, reason="again")
    with pytest.raises(Conflict):
        await approve_refund(OTHER_SUPERVISOR, refund.id)
    # The valid tickets can be refunded again later; the seat goes back on sale only when that is approved.
    again = await request_refund(SELLER, code, [tickets[1]["id"]], channel="box_office")
    assert again.status == "requested"
    await approve_refund(OTHER_SUPERVISOR, again.id)
    seat = (
        await SessionSeat.select(SessionSeat.status)
        .where((SessionSeat.session == ids["seated_session"]) & (SessionSeat.seat == seats[1]))
        .first()
    )
    assert seat["status"] == "free"


async def test_the_approver_declines_on_the_approvals_page_and_the_buyer_is_mailed(monkeypatch):
    ids = await sales_catalog()
    await staff()
    await policies.save_version(SUPERVISOR, STRICT.as_json(), reason="大额退票需审批", event_id=ids["show"])
    code = await paid_seats(ids, ids["vip_seats"][:1])
    refund = await request_refund(SELLER, code, channel="box_office")
    with smtp_server(monkeypatch) as mailbox:
        async with http_client() as client:
            assert (await sign_in(client, "zhangwei", PASSWORD)).status_code in (302, 303)
            page = await client.get("/aftersale/approvals")
            assert f'data-testid="decline-{refund.number}"' in page.text
            empty = await post_form(client, f"/aftersale/refunds/{refund.id}/decline", {"reason": ""})
            assert empty.status_code == 422 and 'data-testid="form-error"' in empty.text
            done = await post_form(client, f"/aftersale/refunds/{refund.id}/decline", {"reason": "非本人购票"})
            assert done.status_code == 200 and 'data-testid="message"' in done.text
            assert f'data-testid="decline-{refund.number}"' not in done.text
        [mail] = mailbox.emails()  # the buyer hears why, and that the tickets are valid again
    assert mail["To"] == BUYER.email and "未获批准" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert refund.number in body and "非本人购票" in body and "恢复有效" in body
    assert await _statuses(code) == {"issued"}
