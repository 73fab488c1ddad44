"""The ticket lines report (R6.2): one line per ticket issued in the period, read in batches by ticket id (a
keyset), so that an export of a million lines never holds them all."""

from __future__ import annotations

from collections.abc import AsyncIterator

from db.reports.columns import COUNT, FEN, Column
from db.reports.filters import Filters
from db.reports.sql import local_minute, select, where

BATCH = 5000


def columns() -> tuple[Column, ...]:
    return (
        Column("ticket", "Ticket", COUNT),
        Column("order_code", "Order"),
        Column("issued", "Issued"),
        Column("event", "Event"),
        Column("session", "Session"),
        Column("price_class", "Price class"),
        Column("channel", "Channel", labels="CHANNEL"),
        Column("outlet", "Outlet or partner"),
        Column("concession", "Concession"),
        Column("price", "Price", FEN),
        Column("status", "Status", labels="TICKET_STATUS"),
    )


FROM = (
    'FROM ticket t JOIN sales_order o ON o.id = t."order" JOIN event_session s ON s.id = t.session '
    "JOIN event e ON e.id = s.event JOIN price_class pc ON pc.id = t.price_class "
)


async def count(filters: Filters) -> int:
    args: list = []
    conditions = where(filters, "t.issued_at", args)
    return int(
        (await select(f"SELECT COUNT(*) AS n {FROM} WHERE t.issued_at IS NOT NULL AND {conditions}", *args))[0]["n"]
    )


async def batches(filters: Filters, size: int = BATCH) -> AsyncIterator[list[dict]]:
    after = 0
    while True:
        args: list = []
        conditions = where(filters, "t.issued_at", args)
        rows = await select(
            f"SELECT t.id AS ticket, o.code AS order_code, {local_minute('t.issued_at')} AS issued, e.name AS event, "
            f"{local_minute('s.starts_at')} AS session, pc.name AS price_class, o.channel AS channel, "
            "o.outlet AS outlet, t.concession AS concession, t.price_fen AS price, t.status AS status "
            f"{FROM} WHERE t.issued_at IS NOT NULL AND {conditions} AND t.id > {{}} ORDER BY t.id LIMIT {{}}",
            *args,
            after,
            size,
        )
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        after = rows[-1]["ticket"]
