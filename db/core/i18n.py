"""Message catalogs, translations/<locale>/LC_MESSAGES/<area>.po (English msgids, Simplified Chinese), read
once and merged; web/i18n.py words each request in its language, the camera client its verdict screen.

db/ words one text itself, because the web, the gate and the documents all show it: a seat's label."""

from __future__ import annotations

from functools import cache

from babel.messages.pofile import read_po

from db.core.engine import ROOT

TRANSLATIONS_DIR = ROOT / "translations"
# zh_CN "{section} {row}排{number}座" (catalog.po); the partner API sends that text as is (web/sales/partner_api.py)
SEAT_LABEL = "{section} row {row}, seat {number}"
# Mail to addresses and lists (risk alerts, scheduled reports) is written in both UI languages, Chinese first:
# a staff account keeps no language of its own (the UI's is the browser's cookie).
MAIL_LANGUAGES = ("zh_CN", "en")


@cache
def catalog(language: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((TRANSLATIONS_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                    messages[message.id] = message.string
    return messages


def translate(language: str, message: str, **params: object) -> str:
    """`message` (an English msgid) in `language`, with its {params} filled in."""
    text = catalog(language).get(message, message) if language != "en" else message
    return text.format(**params) if params else text


def seat_label(section: str, row: str, number: int, language: str) -> str:
    """A seat as people read it, one format everywhere: "池座 3排12座" (zh_CN), "池座 row 3, seat 12" (en).
    The section name is venue data and stays as the venue entered it."""
    return translate(language, SEAT_LABEL, section=section, row=row, number=number)
