"""Languages of the UI (Simplified Chinese by default, English): Babel catalogs under translations/.

Message ids are English. Each area keeps its own catalog, translations/<locale>/LC_MESSAGES/<area>.po;
all of them are read at start-up and merged. The language of a request comes from the `lang` cookie."""

from __future__ import annotations

import contextvars
import datetime as dt
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from db.config import ROOT

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"
TRANSLATIONS_DIR = ROOT / "translations"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def catalog(language: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    folder = TRANSLATIONS_DIR / language / "LC_MESSAGES"
    for path in sorted(Path(folder).glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                    messages[message.id] = message.string
    return messages


def gettext(message: str, **params: object) -> str:
    text = catalog(current_language.get()).get(message, message) if current_language.get() != "en" else message
    return text.format(**params) if params else text


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


def local_time(value: dt.datetime | None, fmt: str = "medium", timezone: str = DEFAULT_TIMEZONE) -> str:
    """A UTC time shown in the venue's time zone, in the request's language."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    patterns = {"short": "yyyy-MM-dd HH:mm", "medium": "yyyy-MM-dd HH:mm", "date": "yyyy-MM-dd", "time": "HH:mm"}
    return format_datetime(
        value, patterns.get(fmt, fmt), tzinfo=ZoneInfo(timezone), locale=Locale.parse(current_language.get())
    )


def format_number(value: float | int) -> str:
    return format_decimal(value, locale=Locale.parse(current_language.get()))
