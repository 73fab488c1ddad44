"""What the catalog pages read from their forms beyond web/forms.py: an uploaded seat map, and times typed in
the venue's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar.datastructures import UploadFile

from db.core.errors import InvalidInput


async def upload_text(value: Any) -> str:
    """The text of an uploaded file (UTF-8, with or without BOM); '' when nothing was chosen."""
    if not isinstance(value, UploadFile):
        return ""
    raw = await value.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The seat map file must be UTF-8 text (save the spreadsheet as CSV UTF-8).", field="seat_csv"
        ) from None


def local_to_utc(value: str, timezone: str, field: str) -> dt.datetime:
    """A date and time typed in the venue's local time (an <input type=datetime-local>), as UTC."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("Enter a date and time, for example 2026-12-31 19:30.", field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(dt.UTC)


def utc_to_local_input(moment: dt.datetime, timezone: str) -> str:
    """The value an <input type=datetime-local> shows for a UTC time in the venue's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
