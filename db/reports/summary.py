"""The sales summary (issue 12, R6.2): the ledger's revenue entries summed per venue-time day, session,
channel, outlet or partner, seller and payment method in reports_sales_fact, so that the sales reports over a
million tickets read a few thousand rows instead of every entry.

The ledger is append-only, so the summary grows from a watermark (the last entry summed): `refresh` (every
30 s, web/jobs.py) adds the entries after it; a report reads the summary plus, live, the entries after the
watermark, so it is exact at every moment. One refresh at a time: it first moves the watermark with a
conditional UPDATE, and a second worker's UPDATE finds it moved and does nothing. On PostgreSQL an entry may
commit after one with a higher id; refresh therefore stops at entries older than LAG, and `check` (hourly)
recounts the entries summed and rebuilds the summary from the ledger if one was missed."""

from __future__ import annotations

import datetime as dt

from db.core.clock import utcnow
from db.core.transaction import queued_write
from db.reports.sql import local_day, postgres, select
from db.reports.tables import SalesFact, SalesWatermark

LAG = dt.timedelta(seconds=5)
KEY = ("day", "session", "channel", "outlet", "seller", "method")
SUMS = ("entries", "orders", "gross", "refunded", "fees_kept", "net")
REVENUE = "l.kind IN ('sale', 'fee_kept', 'price_difference')"
METHOD = (
    'COALESCE((SELECT MIN(pm.method) FROM finance_ledger pm WHERE pm."order" = l."order" AND pm.kind = \'payment\'),'
    " '')"
)


def ledger_sums(where: str) -> str:
    """SELECT of the ledger's revenue entries (`where` picks them) grouped by the summary's key."""
    day = local_day("l.at")
    outlet = "COALESCE(p.name, NULLIF(o.outlet, ''), '')"
    seller = "COALESCE(su.display_name, l.actor_name, '')"
    return (
        f"SELECT {day} AS day, o.session AS session, o.channel AS channel, {outlet} AS outlet, {seller} AS seller, "
        f"{METHOD} AS method, COUNT(*) AS entries, "
        "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen > 0 THEN 1 ELSE 0 END) AS orders, "
        "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen > 0 THEN l.amount_fen ELSE 0 END) AS gross, "
        "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen < 0 THEN -l.amount_fen ELSE 0 END) AS refunded, "
        "SUM(CASE WHEN l.kind = 'fee_kept' THEN l.amount_fen ELSE 0 END) AS fees_kept, "
        "SUM(l.amount_fen) AS net "
        'FROM finance_ledger l JOIN sales_order o ON o.id = l."order" '
        "LEFT JOIN sales_partner p ON p.id = o.partner LEFT JOIN staff_user su ON su.id = o.seller "
        f"WHERE {REVENUE} AND {where} "
        f"GROUP BY {day}, o.session, o.channel, {outlet}, {seller}, {METHOD}"
    )


async def watermark() -> int:
    row = await SalesWatermark.select(SalesWatermark.last_entry).where(SalesWatermark.id == 1).first()
    return row["last_entry"] if row else 0


async def refresh(now: dt.datetime | None = None, lag: dt.timedelta | None = None) -> int:
    """Add the ledger entries after the watermark (and older than `lag`) to the summary; returns how many."""
    now = now or utcnow()
    lag = LAG if lag is None else lag
    async with queued_write(SalesFact._meta.db):
        await SalesWatermark.raw(
            "INSERT INTO reports_sales_watermark (id, last_entry, updated_at) VALUES (1, 0, {}) "
            "ON CONFLICT (id) DO NOTHING",
            now,
        ).run()
        last = await watermark()
        limit = now - lag if postgres() else now  # SQLite commits one writer at a time, in id order
        top = (await select("SELECT MAX(id) AS top FROM finance_ledger WHERE id > {} AND at <= {}", last, limit))[0][
            "top"
        ]
        if top is None:
            return 0
        moved = await SalesWatermark.raw(
            "UPDATE reports_sales_watermark SET last_entry = {}, updated_at = {} WHERE id = 1 AND last_entry = {} "
            "RETURNING id",
            top,
            now,
            last,
        ).run()
        if not moved:
            return 0  # another worker is adding these entries
        columns = ", ".join(KEY + SUMS)
        updates = ", ".join(f"{c} = reports_sales_fact.{c} + excluded.{c}" for c in SUMS)
        await SalesFact.raw(
            f"INSERT INTO reports_sales_fact ({columns}) SELECT {columns} FROM ("
            + ledger_sums("l.id > {} AND l.id <= {}")
            + f") AS fresh WHERE true ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}",
            last,
            top,
        ).run()
        return int(top) - int(last)


async def check() -> str:
    """Recount the entries summed; rebuild the summary from the ledger if any was missed (the hourly job)."""
    last = await watermark()
    counted = (await select(f"SELECT COUNT(*) AS n FROM finance_ledger l WHERE {REVENUE} AND l.id <= {{}}", last))[0]
    summed = (await select("SELECT COALESCE(SUM(entries), 0) AS n FROM reports_sales_fact"))[0]
    if int(counted["n"]) == int(summed["n"]):
        return ""
    async with queued_write(SalesFact._meta.db):
        await SalesFact.delete(force=True)
        await SalesWatermark.update({SalesWatermark.last_entry: 0}).where(SalesWatermark.id == 1)
    await refresh()
    return f"rebuilt: {summed['n']} entries summed of {counted['n']}"


def facts_with_live(last: int) -> str:
    """The summary's rows and, live, the sums of the entries after the watermark `last`: one derived table."""
    columns = ", ".join(KEY + SUMS)
    return f"(SELECT {columns} FROM reports_sales_fact UNION ALL {ledger_sums(f'l.id > {int(last)}')}) f"
