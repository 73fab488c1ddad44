"""The inventory report (R6.2): per session, price class and channel, capacity, allocated, held, sold and free.

Seated classes count their session seats by status; general-admission classes their quota (capacity, what is
left, tickets issued; held = the rest). A class shared out to channels (db/inventory/allocations.py) has one
line per allocation instead: its size (allocated, for a channel, an outlet or a partner; the open pool and
stock held back are not allocated to a channel), held, sold and free as the allocation counts them. A class
without allocations is one line, the open pool that every channel sells from."""

from __future__ import annotations

from db.inventory.allocations import HOLD_BACK, POOL, shares_view
from db.reports.filters import Filters
from db.reports.sql import local_minute, select, where

OPEN_POOL = POOL


async def stock(filters: Filters) -> list[dict]:
    """Sessions playing in the period (the period is always by event date here)."""
    args: list = []
    conditions = where(filters, "s.starts_at", args, channel=False)
    seated = await select(
        f"SELECT s.id AS session_id, e.name AS event, {local_minute('s.starts_at')} AS session, "
        "pc.id AS class_id, pc.name AS price_class, COUNT(*) AS capacity, "
        "SUM(CASE WHEN ss.status = 'held' THEN 1 ELSE 0 END) AS held, "
        "SUM(CASE WHEN ss.status = 'sold' THEN 1 ELSE 0 END) AS sold, "
        "SUM(CASE WHEN ss.status = 'free' THEN 1 ELSE 0 END) AS free "
        "FROM session_seat ss JOIN price_class pc ON pc.id = ss.price_class "
        "JOIN event_session s ON s.id = ss.session JOIN event e ON e.id = s.event "
        f"WHERE s.seated AND {conditions} GROUP BY s.id, e.name, s.starts_at, pc.id, pc.name",
        *args,
    )
    args = []
    inner = where(filters, "s.starts_at", args, channel=False)  # the placeholders in text order: inner first
    conditions = where(filters, "s.starts_at", args, channel=False)
    quota = await select(
        f"SELECT s.id AS session_id, e.name AS event, {local_minute('s.starts_at')} AS session, "
        "pc.id AS class_id, pc.name AS price_class, pc.capacity AS capacity, pc.available AS free, "
        "COALESCE(sold.n, 0) AS sold "
        "FROM price_class pc JOIN event_session s ON s.id = pc.session JOIN event e ON e.id = s.event "
        "LEFT JOIN (SELECT t.price_class AS price_class, COUNT(*) AS n FROM ticket t "
        "JOIN event_session s ON s.id = t.session "
        f"WHERE t.status = 'issued' AND NOT s.seated AND {inner} GROUP BY t.price_class) sold "
        "ON sold.price_class = pc.id "
        f"WHERE NOT s.seated AND {conditions}",
        *args,
    )
    for row in quota:
        row["held"] = max(int(row["capacity"]) - int(row["free"]) - int(row["sold"]), 0)
    shares: dict[int, list] = {}
    for session_id in sorted({r["session_id"] for r in seated + quota}):
        for share in await shares_view(session_id):
            shares.setdefault(share.price_class, []).append(share)
    rows = []
    for r in seated + quota:
        line = {"event": r["event"], "session": r["session"], "price_class": r["price_class"]}
        if r["class_id"] in shares:
            for share in shares[r["class_id"]]:
                allocated = share.channel not in (POOL, HOLD_BACK)
                rows.append(
                    {
                        **line,
                        "channel": share.channel,
                        "outlet": share.partner or share.outlet,
                        "capacity": share.quantity,
                        "allocated": share.quantity if allocated else 0,
                        "held": share.held,
                        "sold": share.sold,
                        "free": share.available,
                    }
                )
            continue
        rows.append(
            {
                **line,
                "channel": OPEN_POOL,
                "outlet": "",
                "capacity": int(r["capacity"]),
                "allocated": 0,
                "held": int(r["held"]),
                "sold": int(r["sold"]),
                "free": int(r["free"]),
            }
        )
    return sorted(rows, key=lambda r: (r["session"], r["event"], r["price_class"]))
