"""The clock: now in UTC (every stored time), and a UTC time as the venue's clock reads it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The center's own zone: days of reports, shifts and ledgers, and the zone of a venue created without one.
# A session's times show in its venue's zone (venue.timezone), passed where they are shown.
VENUE_TIMEZONE = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def venue_minute(value: dt.datetime, timezone: str = VENUE_TIMEZONE.key) -> str:
    """A UTC time as the venue's clock reads it, to the minute ("2026-11-26 19:30"): tickets and gate verdicts;
    `timezone` the venue's (the center's by default, for shifts and stock-takes)."""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
