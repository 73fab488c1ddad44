"""Which price holds when (R3.2): pure rules, no I/O.

A price class keeps the price it was created with; each scheduled, non-cancelled change takes over
at its effective time. The latest change whose time has come is the price."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from db.core.errors import InvalidInput

_YUAN = re.compile(r"^(-?)(\d{1,9})(?:\.(\d{1,2}))?$")


@dataclass(frozen=True, slots=True)
class ScheduledPrice:
    price_fen: int
    effective_at: dt.datetime
    notice: str = ""


def price_at(base_fen: int, changes: Iterable[ScheduledPrice], when: dt.datetime) -> int:
    current, current_at = base_fen, None
    for change in changes:
        if change.effective_at <= when and (current_at is None or change.effective_at >= current_at):
            current, current_at = change.price_fen, change.effective_at
    return current


def upcoming(changes: Iterable[ScheduledPrice], when: dt.datetime) -> list[ScheduledPrice]:
    """Changes published but not yet in force, soonest first: what notices must show."""
    return sorted((c for c in changes if c.effective_at > when), key=lambda c: c.effective_at)


def yuan_to_fen(text: str, field: str = "price") -> int:
    """A price typed in yuan ("128", "12.5", "¥1,280.00") as integer fen, exactly (no float on the way)."""
    cleaned = text.strip().lstrip("¥￥").replace(",", "").replace(" ", "")
    match = _YUAN.match(cleaned)
    if not match:
        raise InvalidInput(
            "Enter the price in yuan, for example 128 or 12.50 (at most two decimals).", field=field, value=text
        )
    sign, whole, decimals = match.groups()
    if sign:
        raise InvalidInput("A price cannot be below zero.", field=field)
    return int(whole) * 100 + int((decimals or "0").ljust(2, "0"))
