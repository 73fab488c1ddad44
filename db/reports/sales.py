"""Sales reports (R6.2): gross, refunds, fees kept and net, grouped by day, event, session, price class,
channel, outlet or partner, seller (the order's seller, else whoever recorded the entry: the seller at the
window who took the payment or paid the refund) or payment method, over the immutable money ledger
(db/finance/ledger.py).

From the ledger's kinds: gross = the positive `sale` entries (an order's value when it is paid), refunded = the
negative `sale` entries (the refunded tickets' value), fees kept = `fee_kept`, and net = gross - refunded +
fees kept + exchange price differences, which is what the money entries (payments less refunds) add up to.
By order date, an amount falls on the day of its entry (a refund on the day it was paid back); by event date,
on the day its session plays.

The price-class report reads tickets and refunded tickets instead (the ledger is per order, not per ticket):
the same gross, refunded and fees for the same orders, without exchange differences."""

from __future__ import annotations

from dataclasses import dataclass

from db.reports.filters import EVENT_DATE, Filters
from db.reports.sql import local_day, local_minute, select, where


@dataclass(frozen=True, slots=True)
class Dimension:
    key: str
    label: str  # English msgid of the report's title part
    columns: tuple[tuple[str, str], ...]  # (column key, SQL) in the SELECT list, grouped by
    group_extra: tuple[str, ...] = ()  # further GROUP BY expressions (ids that keep equal names apart)


def _day(filters: Filters) -> str:
    return local_day("s.starts_at" if filters.basis == EVENT_DATE else "l.at")


METHOD_SQL = (
    'COALESCE((SELECT MIN(pm.method) FROM finance_ledger pm WHERE pm."order" = l."order" AND pm.kind = \'payment\'),'
    " '')"
)


def dimensions(filters: Filters) -> dict[str, Dimension]:
    day = _day(filters)
    return {
        "day": Dimension("day", "by day", (("day", day),)),
        "event": Dimension("event", "by event", (("event", "e.name"),), ("e.id",)),
        "session": Dimension(
            "session", "by session", (("event", "e.name"), ("session", local_minute("s.starts_at"))), ("s.id",)
        ),
        "channel": Dimension("channel", "by channel", (("channel", "o.channel"),)),
        "outlet": Dimension(
            "outlet", "by outlet or partner", (("outlet", "COALESCE(p.name, NULLIF(o.outlet, ''), '')"),)
        ),
        "seller": Dimension("seller", "by seller", (("seller", "COALESCE(su.display_name, l.actor_name, '')"),)),
        "method": Dimension("method", "by payment method", (("method", METHOD_SQL),)),
        "day_channel_event": Dimension(
            "day_channel_event",
            "by day, channel and event",
            (("day", day), ("channel", "o.channel"), ("event", "e.name")),
            ("e.id",),
        ),
    }


AMOUNTS = (
    "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen > 0 THEN 1 ELSE 0 END) AS orders, "
    "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen > 0 THEN l.amount_fen ELSE 0 END) AS gross, "
    "SUM(CASE WHEN l.kind = 'sale' AND l.amount_fen < 0 THEN -l.amount_fen ELSE 0 END) AS refunded, "
    "SUM(CASE WHEN l.kind = 'fee_kept' THEN l.amount_fen ELSE 0 END) AS fees_kept, "
    "SUM(l.amount_fen) AS net"
)


async def by_dimension(filters: Filters, key: str) -> list[dict]:
    """One row per group: the dimension's columns, orders (paid), gross, refunded, fees_kept, net (fen)."""
    dim = dimensions(filters)[key]
    args: list = []
    conditions = where(filters, "l.at", args)
    select_list = ", ".join(f"{sql} AS {name}" for name, sql in dim.columns)
    group = ", ".join([sql for _, sql in dim.columns] + list(dim.group_extra))
    order = ", ".join(name for name, _ in dim.columns)
    joins = ""
    if key == "outlet":
        joins += " LEFT JOIN sales_partner p ON p.id = o.partner"
    if key == "seller":
        joins += " LEFT JOIN staff_user su ON su.id = o.seller"
    return await select(
        f"SELECT {select_list}, {AMOUNTS} FROM finance_ledger l "
        'JOIN sales_order o ON o.id = l."order" '
        "JOIN event_session s ON s.id = o.session "
        f"JOIN event e ON e.id = s.event{joins} "
        f"WHERE l.kind IN ('sale', 'fee_kept', 'price_difference') AND {conditions} "
        f"GROUP BY {group} ORDER BY {order}",
        *args,
    )


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
