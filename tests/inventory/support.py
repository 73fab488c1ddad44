"""Shared set-up for the inventory tests: the sales catalog (50 general-admission tickets, 10 seats) with the
demo partner, and orders placed the way each channel places them."""

from __future__ import annotations

from db.core.actor import Actor
from db.sales.channels.partners import partner_for_key
from db.sales.ordering.orders import ItemRequest, create_order
from db.staff.accounts import create_staff
from tests.helpers import ADMIN_ACTOR, PASSWORD
from tests.sales.support import BUYER, PARTNER_KEY, sales_catalog

SUPERVISOR = Actor(1, "张伟", "supervisor")
SECOND = Actor(2, "王芳", "supervisor")
SELLER = Actor(3, "李娜", "seller")
OUTLET = "王府井售票点"


async def inventory_catalog() -> dict:
    ids = await sales_catalog()
    for actor, username in ((SUPERVISOR, "zhangwei"), (SECOND, "wangfang2"), (SELLER, "lina")):
        made = await create_staff(ADMIN_ACTOR, username, actor.name, actor.role, PASSWORD)
        assert made == actor.user_id, made  # ids 1-3 in the fresh tables
    partner = await partner_for_key(PARTNER_KEY)
    ids["partner"] = partner
    return ids


async def buy(ids: dict, who: str, quantity: int = 1, price_class: str = "ga_class", seat: int | None = None):
    """One order as the partner API, the named outlet or the box office places it."""
    items = [ItemRequest(seat_id=seat)] if seat else [ItemRequest(price_class_id=ids[price_class], quantity=quantity)]
    session = ids["seated_session"] if seat or price_class != "ga_class" else ids["ga_session"]
    if who == "partner":
        partner = ids["partner"]
        return await create_order(
            partner.actor, session_id=session, channel="partner", buyer=BUYER, items=items,
            partner_id=partner.id, outlet=partner.name,
        )  # fmt: skip
    channel, outlet = ("outlet", OUTLET) if who == "outlet" else ("box_office", "")
    return await create_order(SELLER, session_id=session, channel=channel, buyer=BUYER, items=items, outlet=outlet)
