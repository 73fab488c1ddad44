"""Order status changes: one conditional UPDATE (so concurrent changes cannot both win) plus the
history row that says who did it and when (R3.4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from db.core.actor import Actor
from db.sales.rows import event_row
from db.sales.tables import Order, OrderEvent


async def add_event(order_id: int, status: str, actor: Actor, at: dt.datetime, note: str = "") -> None:
    await OrderEvent.insert(OrderEvent(**event_row(order_id, status, actor, at, note)))


async def transition(
    order_id: int,
    allowed_from: Iterable[str],
    to: str,
    actor: Actor,
    at: dt.datetime,
    note: str = "",
    *,
    still_valid_at: dt.datetime | None = None,
    values: dict | None = None,
) -> bool:
    """Move the order to `to` if its status is one of `allowed_from` (and, with `still_valid_at`, its hold
    has not expired by then). True if this call made the change."""
    condition = (Order.id == order_id) & Order.status.is_in(list(allowed_from))
    if still_valid_at is not None:
        condition &= Order.expires_at.is_null() | (Order.expires_at >= still_valid_at)
    changes = {Order.status: to, **{getattr(Order, k): v for k, v in (values or {}).items()}}
    changed = await Order.update(changes).where(condition).returning(Order.id)
    if not changed:
        return False
    await add_event(order_id, to, actor, at, note)
    return True
