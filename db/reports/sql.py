"""The reports' read path: raw aggregate statements on the reports node (the standby when there is one,
db.core.engine.reports_node), and the few expressions the two engines spell differently (the seam)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.core.clock import VENUE_TIMEZONE
from db.core.engine import is_postgres, reports_node
from db.finance.tables import LedgerEntry
from db.reports.filters import EVENT_DATE, Filters


def postgres() -> bool:
    return is_postgres(LedgerEntry._meta.db)


def _offset_hours() -> str:
    """The venue zone's offset for SQLite's date modifiers (Asia/Shanghai keeps +08:00 all year)."""
    offset = dt.datetime.now(VENUE_TIMEZONE).utcoffset() or dt.timedelta(0)
    return f"{offset.total_seconds() / 3600:+.0f} hours"


def local_day(column: str) -> str:
    """SQL for a UTC timestamp column's venue-time date as 'YYYY-MM-DD' text."""
    if postgres():
        return f"to_char({column} AT TIME ZONE '{VENUE_TIMEZONE.key}', 'YYYY-MM-DD')"
    return f"date({column}, '{_offset_hours()}')"


def local_minute(column: str) -> str:
    """SQL for a UTC timestamp column's venue time as 'YYYY-MM-DD HH:MM' text."""
    if postgres():
        return f"to_char({column} AT TIME ZONE '{VENUE_TIMEZONE.key}', 'YYYY-MM-DD HH24:MI')"
    return f"strftime('%Y-%m-%d %H:%M', {column}, '{_offset_hours()}')"


def local_hour(column: str) -> str:
    if postgres():
        return f"to_char({column} AT TIME ZONE '{VENUE_TIMEZONE.key}', 'YYYY-MM-DD HH24:00')"
    return f"strftime('%Y-%m-%d %H:00', {column}, '{_offset_hours()}')"


async def select(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one read-only statement (Piccolo's `{}` placeholders) where the reports run."""
    return await LedgerEntry.raw(sql, *args).run(node=reports_node())


def where(filters: Filters, time_column: str, args: list, *, channel: bool = True) -> str:
    """The WHERE conditions of the filters (appending their values to `args`) for a statement that names the
    session `s` and the order `o`: the period on `time_column` by order date, on the session's start by
    event date; the event; the channel (unless the report has no channel)."""
    start, end = filters.utc_range()
    column = "s.starts_at" if filters.basis == EVENT_DATE else time_column
    clauses = [f"{column} >= {{}}", f"{column} < {{}}"]
    args += [start, end]
    if filters.event_id is not None:
        clauses.append("s.event = {}")
        args.append(filters.event_id)
    if channel and filters.channel:
        clauses.append("o.channel = {}")
        args.append(filters.channel)
    return " AND ".join(clauses)
