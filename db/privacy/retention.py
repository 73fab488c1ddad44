"""Retention as data (R6.3): customer details of sessions that ended more than `keep_days` ago are
anonymised by a periodic job. What reports count stays: orders, their totals, lines, tickets and entries;
what goes: the buyer's name, phone, e-mail and masked ID number, the checked ID on concession lines and the
phone of queued SMS."""

from __future__ import annotations

import datetime as dt

from db.audit.record import record
from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.errors import InvalidInput
from db.core.transaction import write_transaction
from db.privacy.masking import ANONYMISED_NAME
from db.privacy.tables import RetentionPolicy
from db.sales.tables import Order, OrderItem, SmsMessage

DEFAULT_KEEP_DAYS = 365
MIN_KEEP_DAYS, MAX_KEEP_DAYS = 30, 3650
BATCH = 500


async def keep_days() -> int:
    row = await RetentionPolicy.select(RetentionPolicy.keep_days).order_by(RetentionPolicy.id, ascending=False).first()
    return row["keep_days"] if row else DEFAULT_KEEP_DAYS


async def set_keep_days(actor: Actor, days: int) -> None:
    if not MIN_KEEP_DAYS <= days <= MAX_KEEP_DAYS:
        raise InvalidInput("Keep customer details 30 to 3650 days after the session.", field="keep_days")
    before = await keep_days()
    async with write_transaction(RetentionPolicy._meta.db):
        await RetentionPolicy.insert(
            RetentionPolicy(keep_days=days, set_at=dt.datetime.now(dt.UTC), set_by=actor.name)
        ).run()
        await record(actor, "retention.set", "retention", "", before={"keep_days": before}, after={"keep_days": days})


async def anonymise(now: dt.datetime | None = None, actor: Actor | None = None) -> int:
    """Anonymise the orders of sessions that ended before now - keep_days; the number of orders changed."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=await keep_days())
    actor = actor or Actor.system("retention")
    total = 0
    while True:
        sessions = EventSession.select(EventSession.id).where(EventSession.ends_at < cutoff)
        orders = (
            await Order.select(Order.id)
            .where(Order.session.is_in(sessions) & (Order.buyer_name != ANONYMISED_NAME))
            .limit(BATCH)
        )
        ids = [o["id"] for o in orders]
        if not ids:
            return total
        async with write_transaction(Order._meta.db):
            await Order.update(
                {
                    Order.buyer_name: ANONYMISED_NAME,
                    Order.buyer_phone: "",
                    Order.buyer_email: "",
                    Order.buyer_id_masked: "",
                }
            ).where(Order.id.is_in(ids))
            await OrderItem.update({OrderItem.id_masked: ""}).where(OrderItem.order.is_in(ids))
            await SmsMessage.update({SmsMessage.phone: ""}).where(SmsMessage.order.is_in(ids))
            await record(
                actor,
                "retention.anonymise",
                "order",
                "",
                summary=f"{len(ids)} orders of sessions ended before {cutoff.date().isoformat()}",
                after={"orders": len(ids)},
            )
        total += len(ids)
