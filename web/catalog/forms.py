"""What the catalog pages share: reading form values and turning a refused operation into a form error."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar.datastructures import UploadFile

from db.catalog.seatmap import SeatMapError
from db.core.errors import DomainError, InvalidInput
from web.errors import explain
from web.forms import field_text as text
from web.forms import form_number as whole_number
from web.i18n import gettext

__all__ = ["failure", "text", "upload_text", "whole_number", "local_to_utc", "utc_to_local_input"]


def failure(exc: DomainError) -> dict[str, Any]:
    """Template context for a refused form: the message, the field to mark, and for a seat map every bad line."""
    problems = [
        gettext("Line {line}: {problem}", line=p.line, problem=gettext(p.message, **p.params))
        for p in (exc.problems if isinstance(exc, SeatMapError) else [])
    ]
    return {"error": explain(exc), "error_field": exc.field, "problems": problems}


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
