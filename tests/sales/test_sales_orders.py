"""Orders through the sales operations (R3.4 steps 1-3, R3.5, R3.6): holds, prices in force, audit
rules, status history, expiry, and nothing half-written on refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from db.audit.tables import AuditEntry
from db.catalog.operations import schedule_price_change
from db.catalog.tables import PriceClass, SessionSeat
from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import (
    ItemRequest,
    approve_order,
    cancel_order,
    create_order,
    reject_order,
    release_expired_holds,
)
from db.sales.policy import set_channel_policy
from db.sales.queries import audit_queue, availability, get_order, seat_plan
from db.sales.tables import Order, OrderItem
from db.staff.accounts import create_staff
from tests.helpers import ADMIN_ACTOR, PASSWORD
from tests.sales.support import BUYER, sales_catalog


async def staff(role: str, username: str) -> Actor:
    user_id = await create_staff(ADMIN_ACTOR, username, username, role, PASSWORD)
    return Actor(user_id, username, role)


async def test_ga_order_holds_quota_at_the_price_in_force_and_records_history():
    ids = await sales_catalog()
    seller = await staff("seller", "s1")
    await schedule_price_change(
        ADMIN_ACTOR, ids["ga_class"], 6000, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), "涨价通知"
    )
    order = await create_order(
        seller,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=4)],
    )
    assert order.status == "held" and not order.needs_audit
    assert order.total_fen == 4 * 5000  # the price in force now, not the announced one (R3.2)
    assert dt.timedelta(minutes=14) < order.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    counts = (await availability(ids["ga_session"]))["price_classes"][0]
    assert (counts["free"], counts["held"], counts["sold"]) == (46, 4, 0)
    full = await get_order(order.code)
    assert full["buyer_id_masked"] == "1101**********1234" and full["seller"] == seller.user_id
    assert [(e["status"], e["actor_name"]) for e in full["events"]] == [("held", "s1")]
    assert full["items"][0]["breakdown"] == {"list_fen": 5000}
    assert await AuditEntry.exists().where((AuditEntry.action == "order.create") & (AuditEntry.object_id == order.code))


async def test_seat_order_holds_exact_seats_and_refuses_a_taken_one_without_half_writing():
    ids = await sales_catalog()
    seats = ids["vip_seats"]
    first = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=seats[0]), ItemRequest(seat_id=seats[1])],
    )
    assert first.total_fen == 2 * 50000
    with pytest.raises(Conflict):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(seat_id=seats[2]), ItemRequest(seat_id=seats[1])],
        )
    plan = {s["id"]: s["status"] for s in await seat_plan(ids["seated_session"])}
    assert [plan[s] for s in seats] == ["held", "held", "free", "free", "free"]
    assert await Order.count() == 1 and await OrderItem.count() == 2
    with pytest.raises(InvalidInput):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(seat_id=seats[3]), ItemRequest(seat_id=seats[3])],
        )
    with pytest.raises(InvalidInput):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["ga_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(seat_id=seats[3])],
        )


async def test_group_order_gets_the_tier_discount_adjacent_seats_and_waits_for_audit():
    ids = await sales_catalog()
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=12)],
    )
    assert order.status == "awaiting_audit" and order.needs_audit and order.expires_at is None
    assert order.total_fen == 12 * 4500  # 10% off from 10 tickets (demo tiers)
    full = await get_order(order.code)
    assert (full["group_size"], full["group_percent_off"], full["subtotal_fen"]) == (12, 10, 60000)
    # Seated: "best available 3" picks three adjacent free seats in one row.
    await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=ids["vip_seats"][2])],
    )
    best = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["a_class"], quantity=3)],
    )
    lines = (await get_order(best.code))["items"]
    numbers = sorted(line["seat.number"] for line in lines)
    assert numbers == [2, 3, 4]  # the middle of row 2
    with pytest.raises(Conflict):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(price_class_id=ids["vip_class"], quantity=3)],
        )  # seat 3 of row 1 is held


async def test_concession_needs_the_checked_id_and_an_auditor_who_did_not_sell_it():
    ids = await sales_catalog()
    seller, auditor = await staff("seller", "s1"), await staff("auditor", "a1")
    with pytest.raises(InvalidInput):
        await create_order(
            seller,
            session_id=ids["ga_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1, concession="student")],
        )
    with pytest.raises(InvalidInput):
        await create_order(
            seller,
            session_id=ids["ga_session"],
            channel="box_office",
            buyer=BUYER,
            items=[
                ItemRequest(
                    price_class_id=ids["ga_class"],
                    quantity=1,
                    concession="pirate",
                    id_type="id_card",
                    id_number="12345678",
                )
            ],
        )
    order = await create_order(
        seller,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[
            ItemRequest(
                price_class_id=ids["ga_class"],
                quantity=1,
                concession="student",
                id_type="student_card",
                id_number="20230101567",
            ),
            ItemRequest(price_class_id=ids["ga_class"], quantity=1),
        ],
    )
    assert order.status == "awaiting_audit" and order.total_fen == 2500 + 5000
    queue = await audit_queue()
    assert [o["code"] for o in queue] == [order.code]
    line = next(i for i in queue[0]["items"] if i["concession"])
    assert (line["id_type"], line["id_masked"], line["unit_price_fen"]) == ("student_card", "2023***1567", 2500)
    with pytest.raises(PermissionDenied):
        await approve_order(seller, order.code)  # a seller may not audit
    supervisor = await staff("supervisor", "boss")
    own = await create_order(
        supervisor,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=10)],
    )
    with pytest.raises(PermissionDenied):
        await approve_order(supervisor, own.code)  # nobody audits their own sale
    approved = await approve_order(auditor, order.code, "学生证已核验")
    assert approved.status == "awaiting_payment" and approved.expires_at is not None
    with pytest.raises(Conflict):
        await approve_order(auditor, order.code)
    events = (await get_order(order.code))["events"]
    assert [(e["status"], e["actor_name"], e["note"]) for e in events] == [
        ("awaiting_audit", "s1", ""),
        ("awaiting_payment", "a1", "学生证已核验"),
    ]


async def test_reject_needs_a_reason_and_releases_stock():
    ids = await sales_catalog()
    auditor = await staff("auditor", "a1")
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[
            ItemRequest(price_class_id=ids["a_class"], quantity=5),
            ItemRequest(price_class_id=ids["vip_class"], quantity=5),
        ],
    )
    assert order.status == "awaiting_audit"
    with pytest.raises(InvalidInput):
        await reject_order(auditor, order.code, "  ")
    await reject_order(auditor, order.code, "团体名单不全")
    full = await get_order(order.code)
    assert full["status"] == "rejected" and full["reject_reason"] == "团体名单不全"
    assert await SessionSeat.count().where(SessionSeat.status == "free") == 10


async def test_outlet_channel_policy_sends_orders_to_audit():
    ids = await sales_catalog()
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="outlet",
        outlet="新街口代售点",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
    )
    assert order.status == "awaiting_audit"
    await set_channel_policy(ADMIN_ACTOR, "box_office", False, 2)
    quick = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
    )
    assert quick.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=2)
    with pytest.raises(InvalidInput):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["ga_session"],
            channel="telepathy",
            buyer=BUYER,
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
        )


async def test_expired_holds_are_released_lazily_and_by_the_periodic_task():
    ids = await sales_catalog()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    old = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in ids["vip_seats"]],
        now=past,
    )
    ga_old = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=9)],
        now=past,
    )
    # A new hold on the same seats succeeds: the expired order is released first.
    fresh = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=ids["vip_seats"][0])],
    )
    assert fresh.status == "held"
    assert (await get_order(old.code))["status"] == "expired"
    assert [e["status"] for e in (await get_order(old.code))["events"]] == ["held", "expired"]
    # Availability never counts an expired hold.
    assert (await availability(ids["ga_session"]))["price_classes"][0]["available"] == 50
    assert (await get_order(ga_old.code))["status"] == "expired"
    stale = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=5)],
        now=past,
    )
    assert await release_expired_holds() == 1
    assert (await get_order(stale.code))["status"] == "expired"
    assert (await PriceClass.select(PriceClass.available).where(PriceClass.id == ids["ga_class"]).first())[
        "available"
    ] == 50


async def test_cancel_releases_and_only_unpaid_orders_cancel():
    ids = await sales_catalog()
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=7)],
    )
    await cancel_order(ADMIN_ACTOR, order.code, "顾客改主意")
    assert (await availability(ids["ga_session"]))["price_classes"][0]["available"] == 50
    with pytest.raises(Conflict):
        await cancel_order(ADMIN_ACTOR, order.code)


async def test_bad_buyer_details_are_refused_before_anything_is_held():
    ids = await sales_catalog()
    with pytest.raises(InvalidInput) as refused:
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["ga_session"],
            channel="box_office",
            buyer=Buyer("王", "12"),
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
        )
    assert refused.value.field == "buyer.phone"
    with pytest.raises(InvalidInput):
        await create_order(ADMIN_ACTOR, session_id=ids["ga_session"], channel="box_office", buyer=BUYER, items=[])
    assert await Order.count() == 0
    assert (await availability(ids["ga_session"]))["price_classes"][0]["available"] == 50


async def test_the_order_view_carries_the_buyers_contact_only_when_asked_for():
    """get_order gives the phone and e-mail only to the operations that use them (delivery, contact=True);
    staff pages see them through the audited buyer-details reveal (R6.3)."""
    ids = await sales_catalog()
    placed = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
    )
    view = await get_order(placed.code)
    assert view["buyer_name"] == BUYER.name and "buyer_phone" not in view and "buyer_email" not in view
    assert BUYER.phone not in repr(view)
    full = await get_order(placed.code, contact=True)
    assert (full["buyer_phone"], full["buyer_email"]) == (BUYER.phone, BUYER.email)
