"""The on-sale hot path (db/sales/ordering/rush.py, R1.3) writes exactly what the careful path writes (R3.4: every
step recorded with who and when; R6.3: audited). The same assertions run on SQLite, where the careful path
places and pays, and on PostgreSQL, where the one-statement path does."""

from __future__ import annotations

import datetime as dt

import pytest
from piccolo.engine.postgres import PostgresEngine

from db.audit.tables import AuditEntry
from db.catalog.tables import PriceClass
from db.core.errors import Conflict
from db.core.transaction import write_transaction
from db.sales.channels.partners import partner_for_key
from db.sales.ordering import rush
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import pay_prepaid
from db.sales.queries import get_order
from db.sales.tables import Order, Ticket
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import number_for
from tests.sales.support import BUYER, PARTNER_KEY, sales_catalog


async def _audit(code: str) -> list[dict]:
    return (
        await AuditEntry.select(
            AuditEntry.action, AuditEntry.actor_name, AuditEntry.actor_role, AuditEntry.before, AuditEntry.after
        )
        .where(AuditEntry.object_id == code)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


async def test_the_fast_path_runs_on_postgresql_only_and_never_beside_an_open_transaction():
    assert rush.enabled() == isinstance(Order._meta.db, PostgresEngine)
    async with write_transaction(Order._meta.db):  # its own connection would not roll back with the caller's
        assert not rush.enabled()


async def test_a_partner_order_placed_and_paid_leaves_the_whole_record():
    ids = await sales_catalog()
    partner = await partner_for_key(PARTNER_KEY)
    before = (await PriceClass.select(PriceClass.available).where(PriceClass.id == ids["ga_class"]).first())[
        "available"
    ]
    now = dt.datetime.now(dt.UTC)
    placed = await create_order(
        partner.actor,
        session_id=ids["ga_session"],
        channel="partner",
        buyer=BUYER,
        partner_id=partner.id,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=3)],
        idempotency_key="rush-1",
        outlet=partner.name,
    )
    assert placed.status == "held" and placed.total_fen == 3 * 5000 and placed.expires_at > now
    assert (await PriceClass.select(PriceClass.available).where(PriceClass.id == ids["ga_class"]).first())[
        "available"
    ] == before - 3

    order = await get_order(placed.code, contact=True)
    assert (order["status"], order["channel"], order["outlet"], order["partner"], order["idempotency_key"]) == (
        "held",
        "partner",
        partner.name,
        partner.id,
        "rush-1",
    )
    assert (order["buyer_name"], order["buyer_phone"], order["buyer_email"]) == (BUYER.name, BUYER.phone, BUYER.email)
    assert order["buyer_id_masked"].startswith("1101") and "199003" not in order["buyer_id_masked"]
    assert (order["total_fen"], order["subtotal_fen"], order["needs_audit"], order["group_size"]) == (
        15000,
        15000,
        False,
        0,
    )
    [line] = order["items"]
    assert (
        line["price_class"],
        line["seat"],
        line["quantity"],
        line["list_price_fen"],
        line["unit_price_fen"],
        line["line_total_fen"],
    ) == (ids["ga_class"], None, 3, 5000, 5000, 15000)
    assert isinstance(line["breakdown"], dict)
    assert [(e["status"], e["actor_name"]) for e in order["events"]] == [("held", partner.actor.name)]

    paid = await pay_prepaid(partner.actor, placed.code, partner.id)
    assert (paid.status, paid.outcome, len(paid.ticket_ids)) == ("paid", "accepted", 3)
    order = await get_order(placed.code)
    assert order["status"] == "paid" and order["paid_at"] is not None
    assert [e["status"] for e in order["events"]] == ["held", "paid"]
    [payment] = order["payments"]
    assert (payment["id"], payment["method"], payment["amount_fen"], payment["status"], payment["outcome"]) == (
        paid.payment_id,
        "partner",
        15000,
        "succeeded",
        "accepted",
    )
    assert payment["confirmed_at"] is not None
    tickets = await Ticket.select().where(Ticket.order == order["id"]).order_by(Ticket.id)
    assert [t["id"] for t in tickets] == sorted(paid.ticket_ids)
    for ticket in tickets:
        assert (ticket["status"], ticket["price_fen"], ticket["price_class"], ticket["seat"]) == (
            "issued",
            5000,
            ids["ga_class"],
            None,
        )
        claim = keyring().verify(ticket["code"])
        assert (claim.ticket_id, claim.session_id) == (ticket["id"], ids["ga_session"])
        assert ticket["short_code"] == number_for(ticket["id"])  # the typeable number (issue 15), on both paths
        assert ticket["issued_at"] is not None

    audit = await _audit(placed.code)
    assert [(a["action"], a["actor_name"]) for a in audit] == [
        ("order.create", partner.actor.name),
        ("order.pay", partner.actor.name),
    ]
    assert audit[0]["after"] == {
        "channel": "partner",
        "session": ids["ga_session"],
        "tickets": 3,
        "total_fen": 15000,
        "status": "held",
    }
    assert audit[1]["before"] == {"status": "held"}
    assert audit[1]["after"] == {
        "status": "paid",
        "method": "partner",
        "amount_fen": 15000,
        "outcome": "accepted",
        "tickets": 3,
    }

    again = await pay_prepaid(partner.actor, placed.code, partner.id)
    assert (again.status, again.outcome) == ("paid", "already_paid")
    assert await Ticket.count().where(Ticket.order == order["id"]) == 3


async def test_sold_out_writes_nothing_and_an_expired_hold_takes_the_careful_path():
    ids = await sales_catalog()
    partner = await partner_for_key(PARTNER_KEY)
    await PriceClass.update({PriceClass.available: 2}).where(PriceClass.id == ids["ga_class"])
    orders_before = await Order.count()
    with pytest.raises(Conflict):
        await create_order(
            partner.actor,
            session_id=ids["ga_session"],
            channel="partner",
            buyer=BUYER,
            partner_id=partner.id,
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=3)],
        )
    assert await Order.count() == orders_before
    assert (await PriceClass.select(PriceClass.available).where(PriceClass.id == ids["ga_class"]).first())[
        "available"
    ] == 2

    placed = await create_order(
        partner.actor,
        session_id=ids["ga_session"],
        channel="partner",
        buyer=BUYER,
        partner_id=partner.id,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=2)],
    )
    late = placed.expires_at + dt.timedelta(minutes=1)
    paid = await pay_prepaid(partner.actor, placed.code, partner.id, now=late)
    assert (paid.status, paid.outcome) == ("paid", "reheld")  # nobody took the tickets meanwhile
    assert [e["status"] for e in (await get_order(placed.code))["events"]] == ["held", "expired", "paid"]
