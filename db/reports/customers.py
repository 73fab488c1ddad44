"""Customer analysis (R6.2 客户分析): new against returning buyers, repeat purchases, the kinds of event and
the channels they buy through, and concession use. A buyer is a phone number (anonymised orders, whose
number is gone, are left out). A buyer is new on the day of their first paid order ever.

Only `top_buyers` carries customer data (names and phones, masked); the others are counts."""

from __future__ import annotations

from db.privacy.masking import mask_phone
from db.reports.filters import Filters
from db.reports.sql import local_day, select, where

FIRST = (
    "(SELECT buyer_phone, MIN(paid_at) AS first_at FROM sales_order "
    "WHERE paid_at IS NOT NULL AND buyer_phone <> '' GROUP BY buyer_phone) f"
)


PAID = "o.paid_at IS NOT NULL AND o.buyer_phone <> ''"  # paid orders of buyers still known
TICKETS = (
    '(SELECT t."order" AS order_id, COUNT(*) AS tickets, '
    "SUM(CASE WHEN t.concession <> '' THEN 1 ELSE 0 END) AS concessions "
    'FROM ticket t GROUP BY t."order") tk'
)


async def new_and_returning(filters: Filters) -> list[dict]:
    """Per day: buyers, new buyers, returning buyers, paid orders."""
    args: list = []
    conditions = where(filters, "o.paid_at", args)
    day, first_day = local_day("o.paid_at"), local_day("f.first_at")
    rows = await select(
        f"SELECT {day} AS day, COUNT(DISTINCT o.buyer_phone) AS buyers, "
        f"COUNT(DISTINCT CASE WHEN {first_day} = {day} THEN o.buyer_phone END) AS new_buyers, COUNT(*) AS orders "
        f"FROM sales_order o JOIN event_session s ON s.id = o.session JOIN {FIRST} ON f.buyer_phone = o.buyer_phone "
        f"WHERE {PAID} AND {conditions} GROUP BY {day} ORDER BY {day}",
        *args,
    )
    for r in rows:
        r["returning_buyers"] = int(r["buyers"]) - int(r["new_buyers"])
    return rows


async def repeat_purchases(filters: Filters) -> list[dict]:
    """Buyers by how many paid orders they made in the period: 1, 2, 3, 4 or more."""
    args: list = []
    conditions = where(filters, "o.paid_at", args)
    per_buyer = await select(
        "SELECT o.buyer_phone AS phone, COUNT(*) AS orders FROM sales_order o "
        f"JOIN event_session s ON s.id = o.session WHERE {PAID} AND {conditions} GROUP BY o.buyer_phone",
        *args,
    )
    groups: dict[str, dict] = {k: {"orders_each": k, "buyers": 0, "orders": 0} for k in ("1", "2", "3", "4+")}
    for r in per_buyer:
        n = int(r["orders"])
        group = groups[str(n) if n < 4 else "4+"]
        group["buyers"] += 1
        group["orders"] += n
    total = sum(g["buyers"] for g in groups.values())
    for g in groups.values():
        g["share"] = round(100 * g["buyers"] / total, 1) if total else 0.0
    return list(groups.values())


async def by_group(filters: Filters, column: str) -> list[dict]:
    """Per event kind (`e.kind`) or channel (`o.channel`): buyers, new buyers, orders, tickets, concession
    tickets and their share."""
    args: list = []
    conditions = where(filters, "o.paid_at", args)
    day, first_day = local_day("o.paid_at"), local_day("f.first_at")
    rows = await select(
        f"SELECT {column} AS grp, COUNT(DISTINCT o.buyer_phone) AS buyers, "
        f"COUNT(DISTINCT CASE WHEN {first_day} = {day} THEN o.buyer_phone END) AS new_buyers, "
        "COUNT(*) AS orders, SUM(COALESCE(tk.tickets, 0)) AS tickets, SUM(COALESCE(tk.concessions, 0)) AS concessions "
        "FROM sales_order o JOIN event_session s ON s.id = o.session JOIN event e ON e.id = s.event "
        f"JOIN {FIRST} ON f.buyer_phone = o.buyer_phone LEFT JOIN {TICKETS} ON tk.order_id = o.id "
        f"WHERE {PAID} AND {conditions} GROUP BY {column} ORDER BY {column}",
        *args,
    )
    for r in rows:
        r["tickets"], r["concessions"] = int(r["tickets"] or 0), int(r["concessions"] or 0)
        r["concession_share"] = round(100 * r["concessions"] / r["tickets"], 1) if r["tickets"] else 0.0
    return rows


async def top_buyers(filters: Filters, limit: int = 500) -> list[dict]:
    """The buyers with the most paid orders in the period (customer data: the phone masked)."""
    args: list = []
    conditions = where(filters, "o.paid_at", args)
    rows = await select(
        "SELECT o.buyer_phone AS phone, MAX(o.buyer_name) AS name, COUNT(*) AS orders, "
        "SUM(COALESCE(tk.tickets, 0)) AS tickets, SUM(o.total_fen) AS spent, "
        f"MIN({local_day('f.first_at')}) AS first_order "
        f"FROM sales_order o JOIN event_session s ON s.id = o.session JOIN {FIRST} ON f.buyer_phone = o.buyer_phone "
        f"LEFT JOIN {TICKETS} ON tk.order_id = o.id WHERE {PAID} AND {conditions} "
        "GROUP BY o.buyer_phone ORDER BY COUNT(*) DESC, SUM(o.total_fen) DESC, o.buyer_phone LIMIT {}",
        *args,
        limit,
    )
    return [
        {
            "name": r["name"],
            "phone": mask_phone(r["phone"]),
            "orders": int(r["orders"]),
            "tickets": int(r["tickets"] or 0),
            "spent": int(r["spent"] or 0),
            "first_order": r["first_order"],
        }
        for r in rows
    ]
