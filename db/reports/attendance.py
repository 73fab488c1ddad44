"""Attendance (R6.2): tickets sold against admitted per session, and per gate; no-shows are the valid tickets
never admitted. The period is by event date (sessions playing in it)."""

from __future__ import annotations

from db.reports.filters import Filters
from db.reports.sql import local_minute, select, where


async def by_session(filters: Filters) -> list[dict]:
    args: list = []
    conditions = where(filters, "s.starts_at", args)
    rows = await select(
        f"SELECT e.name AS event, {local_minute('s.starts_at')} AS session, COUNT(*) AS sold, "
        "SUM(CASE WHEN a.id IS NOT NULL THEN 1 ELSE 0 END) AS admitted "
        'FROM ticket t JOIN sales_order o ON o.id = t."order" JOIN event_session s ON s.id = t.session '
        "JOIN event e ON e.id = s.event LEFT JOIN gate_admission a ON a.ticket = t.id "
        f"WHERE t.status = 'issued' AND {conditions} GROUP BY s.id, e.name, s.starts_at ORDER BY s.starts_at, e.name",
        *args,
    )
    for r in rows:
        r["sold"], r["admitted"] = int(r["sold"]), int(r["admitted"] or 0)
        r["no_shows"] = r["sold"] - r["admitted"]
        r["show_rate"] = round(100 * r["admitted"] / r["sold"], 1) if r["sold"] else 0.0
    return rows


async def by_gate(filters: Filters) -> list[dict]:
    """Per session and gate of first entry: tickets admitted and their share of the session's admitted."""
    args: list = []
    conditions = where(filters, "s.starts_at", args)
    rows = await select(
        f"SELECT s.id AS session_id, e.name AS event, {local_minute('s.starts_at')} AS session, "
        "g.code || ' ' || g.name AS gate, COUNT(*) AS admitted "
        "FROM gate_admission a JOIN ticket t ON t.id = a.ticket JOIN gate g ON g.id = a.first_gate "
        'JOIN sales_order o ON o.id = t."order" JOIN event_session s ON s.id = a.session '
        f"JOIN event e ON e.id = s.event WHERE t.status = 'issued' AND {conditions} "
        "GROUP BY s.id, e.name, s.starts_at, g.id, g.code, g.name ORDER BY s.starts_at, e.name, g.code",
        *args,
    )
    totals: dict[int, int] = {}
    for r in rows:
        r["admitted"] = int(r["admitted"])
        totals[r["session_id"]] = totals.get(r["session_id"], 0) + r["admitted"]
    for r in rows:
        r["share"] = round(100 * r["admitted"] / totals[r["session_id"]], 1)
    return rows
