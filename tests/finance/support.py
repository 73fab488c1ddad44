"""Shared by the finance tests: staff, a window, window payments through the real sales operations."""

from __future__ import annotations

import datetime as dt

from db.core.actor import Actor
from db.finance import shifts
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from tests.aftersale.support import OTHER_SUPERVISOR, SELLER, SUPERVISOR, staff
from tests.helpers import ADMIN_ACTOR
from tests.sales.support import BUYER, sales_catalog

__all__ = ["OTHER_SUPERVISOR", "SELLER", "SUPERVISOR", "staff", "sales_catalog", "window_sale", "one_window"]


async def one_window(name: str = "东门1号窗口") -> int:
    return await shifts.create_window(SUPERVISOR, name, "国家大剧院东门")


async def window_sale(
    ids: dict,
    seller: Actor,
    method: str,
    quantity: int = 1,
    reference: str = "",
    tendered_fen: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A general-admission order of `quantity` tickets paid at the window by `seller`."""
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=quantity)],
    )
    if method == "cash" and tendered_fen is None:
        tendered_fen = 10**6
    await confirm_window_payment(seller, order.code, method, tendered_fen, now, reference=reference)
    return order.code
