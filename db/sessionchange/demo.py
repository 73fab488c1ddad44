"""Demo data for the session-change pages: a postponement of the session with the most paid orders,
proposed by the supervisor (张伟) with its dry run and awaiting a second person (the auditor 王芳 approves it
at /changes/ID). Nothing changes for the buyers until then. Loading twice adds nothing."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.clock import utcnow
from db.sales.tables import Order
from db.sessionchange.operations import POSTPONE, propose
from db.sessionchange.tables import SessionChange
from db.staff.tables import StaffUser


async def load(actor: Actor) -> None:
    if await SessionChange.count():
        return
    boss = await StaffUser.select(StaffUser.id, StaffUser.display_name).where(StaffUser.username == "zhangwei").first()
    if boss is None:
        return
    now = utcnow()
    counts: dict[int, int] = {}
    for row in await Order.select(Order.session).where(
        (Order.status == "paid")
        & Order.session.is_in(
            EventSession.select(EventSession.id).where(
                (EventSession.starts_at > now + dt.timedelta(days=1)) & (EventSession.status == "on_sale")
            )
        )
    ):
        counts[row["session"]] = counts.get(row["session"], 0) + 1
    if not counts:
        return
    session_id = max(counts, key=lambda s: (counts[s], -s))
    session = await EventSession.select(EventSession.starts_at).where(EventSession.id == session_id).first()
    later = session["starts_at"] + dt.timedelta(days=7)
    await propose(
        Actor(boss["id"], boss["display_name"], "supervisor"),
        session_id,
        POSTPONE,
        reason="主演嗓子不适，主办方申请延期一周",
        starts_at=later,
        choice_until=min(later - dt.timedelta(days=1), now + dt.timedelta(days=30)),
    )
