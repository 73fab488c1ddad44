"""The clock: now in UTC (every stored time), and a UTC time as the venue's clock reads it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VENUE_TIMEZONE = ZoneInfo("Asia/Shanghai")  # the center's venues; web/i18n.py shows every time in it


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def venue_minute(value: dt.datetime) -> str:
    """A UTC time as the venue's clock reads it, to the minute ("2026-11-26 19:30"): tickets and gate verdicts."""
    return value.astimezone(VENUE_TIMEZONE).strftime("%Y-%m-%d %H:%M")
