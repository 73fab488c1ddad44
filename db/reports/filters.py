"""A report's filters (R6.2): the period (venue-time days, both ends included), one event, one channel, and
whether days are counted by order date (when sold or refunded) or by event date (when the session plays).

The page, its CSV and XLSX exports and a schedule read the same Filters, so they give the same numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.errors import InvalidInput
from db.sales.status import CHANNELS

ORDER_DATE = "order"
EVENT_DATE = "event"
BASES = (ORDER_DATE, EVENT_DATE)
MAX_DAYS = 731  # two years in one report
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Filters:
    since: dt.date
    until: dt.date  # included
    event_id: int | None = None
    channel: str | None = None
    basis: str = ORDER_DATE

    def utc_range(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: venue midnight of `since` to venue midnight after `until`."""
        start = dt.datetime.combine(self.since, dt.time(), VENUE_TIMEZONE)
        end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), VENUE_TIMEZONE)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def as_params(self) -> dict[str, str]:
        """The query string that gives these filters back (links, exports, schedules)."""
        params = {"since": self.since.isoformat(), "until": self.until.isoformat(), "basis": self.basis}
        if self.event_id is not None:
            params["event"] = str(self.event_id)
        if self.channel:
            params["channel"] = self.channel
        return params


def today() -> dt.date:
    return utcnow().astimezone(VENUE_TIMEZONE).date()


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Enter a date as YYYY-MM-DD.", field=field) from None


def parse(params: dict[str, Any], default_days: int = DEFAULT_DAYS, ahead_days: int = 0) -> Filters:
    """Filters from a query string (or a schedule's saved params; `event` an int or absent); InvalidInput
    names the bad field. Without dates: the `default_days` up to today plus `ahead_days` after it."""

    def text(name: str) -> str:
        value = params.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    until = _date(text("until"), "until") if text("until") else today() + dt.timedelta(days=ahead_days)
    since = _date(text("since"), "since") if text("since") else today() - dt.timedelta(days=default_days - 1)
    if since > until:
        raise InvalidInput("The period must start on or before its last day.", field="since")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput("A report covers at most {days} days.", field="since", days=MAX_DAYS)
    event_id = params.get("event")  # an id already through web/forms.py's bounded parser, or None
    if event_id is not None and (isinstance(event_id, bool) or not isinstance(event_id, int)):
        raise InvalidInput("Choose an event from the list.", field="event")
    channel = text("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput("Choose a channel from the list.", field="channel")
    basis = text("basis") or ORDER_DATE
    if basis not in BASES:
        raise InvalidInput("Choose order date or event date.", field="basis")
    return Filters(since, until, event_id, channel, basis)
