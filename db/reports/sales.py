"""Sales reports (R6.2): gross, refunds, fees kept and net, grouped by day, event, session, price class,
channel, outlet or partner, seller (the order's seller, else whoever recorded the entry: the seller at the
window who took the payment or paid the refund) or payment method, over the immutable money ledger
(db/finance/ledger.py).

From the ledger's kinds: gross = the positive `sale` entries (an order's value when it is paid), refunded = the
negative `sale` entries (the refunded tickets' value), fees kept = `fee_kept`, and net = gross - refunded +
fees kept + exchange price differences, which is what the money entries (payments less refunds) add up to.
By order date, an amount falls on the day of its entry (a refund on the day it was paid back); by event date,
on the day its session plays.

The ledger-based reports read the ledger's summary (db/reports/summary.py) with the entries not summed yet
added live: the same numbers as summing the ledger, over a few thousand rows.

The price-class report reads tickets and refunded tickets instead (the ledger is per order, not per ticket):
the same gross, refunded and fees for the same orders, without exchange differences."""

from __future__ import annotations

from dataclasses import dataclass

from db.reports import summary
from db.reports.filters import EVENT_DATE, Filters
from db.reports.sql import local_day, local_minute, select, where


@dataclass(frozen=True, slots=True)
class Dimension:
    key: str
    label: str  # English msgid of the report's title part
    columns: tuple[tuple[str, str], ...]  # (column key, SQL) in the SELECT list, grouped by
    group_extra: tuple[str, ...] = ()  # further GROUP BY expressions (ids that keep equal names apart)


def _day(filters: Filters) -> str:
    return local_day("s.starts_at") if filters.basis == EVENT_DATE else "f.day"


def dimensions(filters: Filters) -> dict[str, Dimension]:
    day = _day(filters)
    return {
        "day": Dimension("day", "by day", (("day", day),)),
        "event": Dimension("event", "by event", (("event", "e.name"),), ("e.id",)),
        "session": Dimension(
            "session", "by session", (("event", "e.name"), ("session", local_minute("s.starts_at"))), ("s.id",)
        ),
        "channel": Dimension("channel", "by channel", (("channel", "f.channel"),)),
        "outlet": Dimension("outlet", "by outlet or partner", (("outlet", "f.outlet"),)),
        "seller": Dimension("seller", "by seller", (("seller", "f.seller"),)),
        "method": Dimension("method", "by payment method", (("method", "f.method"),)),
        "day_channel_event": Dimension(
            "day_channel_event",
            "by day, channel and event",
            (("day", day), ("channel", "f.channel"), ("event", "e.name")),
            ("e.id",),
        ),
    }


AMOUNTS = (
    "SUM(f.orders) AS orders, SUM(f.gross) AS gross, SUM(f.refunded) AS refunded, "
    "SUM(f.fees_kept) AS fees_kept, SUM(f.net) AS net"
)


def _conditions(filters: Filters, args: list) -> str:
    """The filters on the summary (`f`, its day a venue-time date) joined to its session `s`."""
    if filters.basis == EVENT_DATE:
        start, end = filters.utc_range()
        clauses = ["s.starts_at >= {}", "s.starts_at < {}"]
        args += [start, end]
    else:
        clauses = ["f.day >= {}", "f.day <= {}"]
        args += [filters.since.isoformat(), filters.until.isoformat()]
    if filters.event_id is not None:
        clauses.append("s.event = {}")
        args.append(filters.event_id)
    if filters.channel:
        clauses.append("f.channel = {}")
        args.append(filters.channel)
    return " AND ".join(clauses)


async def by_dimension(filters: Filters, key: str) -> list[dict]:
    """One row per group: the dimension's columns, orders (paid), gross, refunded, fees_kept, net (fen). Read
    from the ledger's summary plus the entries not summed yet (db/reports/summary.py): the same sums as the
    ledger itself."""
    dim = dimensions(filters)[key]
    args: list = []
    conditions = _conditions(filters, args)
    select_list = ", ".join(f"{sql} AS {name}" for name, sql in dim.columns)
    group = ", ".join([sql for _, sql in dim.columns] + list(dim.group_extra))
    order = ", ".join(name for name, _ in dim.columns)
    rows = await select(
        f"SELECT {select_list}, {AMOUNTS} FROM {summary.facts_with_live(await summary.watermark())} "
        "JOIN event_session s ON s.id = f.session JOIN event e ON e.id = s.event "
        f"WHERE {conditions} GROUP BY {group} ORDER BY {order}",
        *args,
    )
    for row in rows:
        for k in ("orders", "gross", "refunded", "fees_kept", "net"):
            row[k] = int(row[k] or 0)
    return rows


async def by_price_class(filters: Filters) -> list[dict]:
    """Per event and price class: tickets sold, gross, tickets refunded, refunded, fees kept, net (fen)."""
    args: list = []
    conditions = where(filters, "t.issued_at", args)
    sold = await select(
        "SELECT e.id AS event_id, e.name AS event, pc.name AS price_class, COUNT(*) AS tickets, "
        "SUM(t.price_fen) AS gross FROM ticket t "
        'JOIN sales_order o ON o.id = t."order" JOIN event_session s ON s.id = t.session '
        "JOIN event e ON e.id = s.event JOIN price_class pc ON pc.id = t.price_class "
        f"WHERE t.issued_at IS NOT NULL AND {conditions} GROUP BY e.id, e.name, pc.name",
        *args,
    )
    args = []
    conditions = where(filters, "r.done_at", args)
    back = await select(
        "SELECT e.id AS event_id, e.name AS event, pc.name AS price_class, COUNT(*) AS tickets_refunded, "
        "SUM(rt.price_fen) AS refunded, SUM(rt.fee_fen) AS fees_kept FROM aftersale_refund_ticket rt "
        "JOIN aftersale_refund r ON r.id = rt.refund JOIN ticket t ON t.id = rt.ticket "
        'JOIN sales_order o ON o.id = t."order" JOIN event_session s ON s.id = t.session '
        "JOIN event e ON e.id = s.event JOIN price_class pc ON pc.id = t.price_class "
        f"WHERE r.status = 'done' AND {conditions} GROUP BY e.id, e.name, pc.name",
        *args,
    )
    rows: dict[tuple, dict] = {}
    for r in sold + back:
        row = rows.setdefault(
            (r["event_id"], r["price_class"]),
            {
                "event": r["event"],
                "price_class": r["price_class"],
                "tickets": 0,
                "gross": 0,
                "tickets_refunded": 0,
                "refunded": 0,
                "fees_kept": 0,
            },
        )
        for k in ("tickets", "gross", "tickets_refunded", "refunded", "fees_kept"):
            row[k] += int(r.get(k) or 0)
    for row in rows.values():
        row["net"] = row["gross"] - row["refunded"] + row["fees_kept"]
    return sorted(rows.values(), key=lambda r: (r["event"], r["price_class"]))
