"""Paid orders for the after-sale tests, made through the real sales operations."""

from __future__ import annotations

from db.catalog import operations as catalog
from db.core.actor import Actor
from db.core.clock import utcnow
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment, pay_prepaid
from db.sales.tables import Order, Payment
from db.staff.accounts import create_staff
from tests.helpers import ADMIN_ACTOR, PASSWORD, utc
from tests.sales.support import BUYER

SELLER = Actor(1, "李娜", "seller")
SUPERVISOR = Actor(2, "张伟", "supervisor")
OTHER_SUPERVISOR = Actor(3, "赵敏", "supervisor")


async def staff() -> None:
    """The accounts behind SELLER, SUPERVISOR and OTHER_SUPERVISOR (ids 1-3 in the fresh tables)."""
    for actor, username in ((SELLER, "lina"), (SUPERVISOR, "zhangwei"), (OTHER_SUPERVISOR, "zhaomin")):
        made = await create_staff(ADMIN_ACTOR, username, actor.name, actor.role, PASSWORD)
        assert made == actor.user_id, made


async def paid_in_cash(ticket: dict) -> str:
    """Record a cash payment for a ticket made by tests/gate/tickets.py issue_ticket (so that it can be refunded);
    returns its order's code."""
    await Payment.insert(
        Payment(order=ticket["order_id"], method="cash", amount_fen=10000, status="succeeded", created_at=utcnow())
    )
    return (await Order.select(Order.code).where(Order.id == ticket["order_id"]).first())["code"]


async def paid_seats(ids: dict, seats: list[int], method: str = "cash") -> str:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in seats],
    )
    tendered = 10**7 if method == "cash" else None
    await confirm_window_payment(SELLER, order.code, method, tendered_fen=tendered, reference="88020461")
    return order.code


async def paid_ga(ids: dict, quantity: int = 2) -> str:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=quantity)],
    )
    await confirm_window_payment(SELLER, order.code, "card", reference="88020461")
    return order.code


async def paid_partner_seats(ids: dict, seats: list[int], partner_id: int) -> str:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="partner",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in seats],
        partner_id=partner_id,
    )
    await pay_prepaid(ADMIN_ACTOR, order.code, partner_id)
    return order.code


async def second_show_session(ids: dict) -> int:
    """Another session of the seated show (two days later, same theatre and prices)."""
    return await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            ids["show"],
            ids["theatre"],
            utc(days=5),
            utc(days=5, hours=2),
            [catalog.PriceClassSpec("VIP", 50000, "VIP"), catalog.PriceClassSpec("甲等", 20000, "A")],
            ids["gates"],
        ),
    )
