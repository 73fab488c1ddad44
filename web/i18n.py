"""Languages of the UI (Simplified Chinese by default, English): Babel catalogs under translations/.

Message ids are English. Each area keeps its own catalog, translations/<locale>/LC_MESSAGES/<area>.po;
db/core/i18n.py reads and merges them. The language of a request comes from the `lang` cookie."""

from __future__ import annotations

import contextvars
import datetime as dt
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal

from db.core import i18n as db_i18n
from db.core.clock import VENUE_TIMEZONE
from db.sales import notes
from web.labels import ORDER_NOTE

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
DEFAULT_TIMEZONE = VENUE_TIMEZONE.key

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def gettext(message: str, **params: object) -> str:
    return db_i18n.translate(current_language.get(), message, **params)


def seat_label(section: str, row: str, number: int) -> str:
    """A seat's label in the request's language (db.core.i18n.seat_label)."""
    return db_i18n.seat_label(section, row, number, current_language.get())


def translated_labels(labels: dict[str, str]) -> dict[str, str]:
    """Labels kept as English msgids (code -> label), in the request's language."""
    return {code: gettext(label) for code, label in labels.items()}


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    return gettext(singular if n == 1 else plural, n=n, **params)


def pick_language(cookie_value: str | None) -> str:
    return cookie_value if cookie_value in LANGUAGES else DEFAULT_LANGUAGE


def format_fen(fen: int | None) -> str:
    """Money is kept in integer fen; shown as yuan with two decimals."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def order_note(text: str) -> str:
    """An order-history note in the request's language: refunds, exchanges and declines (db/sales/notes.py)
    worded here with money in yuan, the system's fixed notes translated, anything typed by staff as typed."""
    parsed = notes.parse(text)
    if parsed is None:
        return gettext(ORDER_NOTE[text]) if text in ORDER_NOTE else text
    kind, p = parsed
    money = {k.removesuffix("_fen"): format_fen(v) for k, v in p.items() if k.endswith("_fen")}
    words = {k: v for k, v in p.items() if not k.endswith("_fen")} | money
    one = p.get("tickets") == 1
    if kind == "refund":
        if one:
            return gettext("{number}: 1 ticket, refund {refund}, fee {fee}", **words)
        return gettext("{number}: {tickets} tickets, refund {refund}, fee {fee}", **words)
    if kind == "exchange":
        if one:
            return gettext(
                "{number}: 1 ticket exchanged, order {order} → {new_order}, fee {fee}, difference {difference}", **words
            )
        return gettext(
            "{number}: {tickets} tickets exchanged, order {order} → {new_order}, fee {fee}, difference {difference}",
            **words,
        )
    return gettext("{number} declined: {reason}", **words)


def local_time(value: dt.datetime | None, fmt: str = "medium", timezone: str = DEFAULT_TIMEZONE) -> str:
    """A UTC time shown in the venue's time zone, in the request's language."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    patterns = {"short": "yyyy-MM-dd HH:mm", "medium": "yyyy-MM-dd HH:mm", "date": "yyyy-MM-dd", "time": "HH:mm"}
    return format_datetime(
        value, patterns.get(fmt, fmt), tzinfo=ZoneInfo(timezone), locale=Locale.parse(current_language.get())
    )


def format_number(value: float | int) -> str:
    return format_decimal(value, locale=Locale.parse(current_language.get()))
