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


@dataclass(frozen=True, slots=True)
class Discount:
    """A promotion's rule (R4.3): `percent` off (1-90) or an `amount` of fen off each ticket."""

    kind: str  # percent | amount
    value: int


def percent_of(amount_fen: int, percent_off: int) -> int:
    """`amount_fen` less `percent_off` percent, rounded half up to the fen."""
    return (amount_fen * (100 - percent_off) * 2 + 100) // 200


def discounted(list_fen: int, discount: Discount) -> int:
    """The price of one ticket under a promotion, never below zero."""
    if discount.kind == "percent":
        return percent_of(list_fen, discount.value)
    return max(list_fen - discount.value, 0)


def bundle_shares(price_fen: int, list_prices: tuple[int, ...]) -> tuple[int, ...]:
    """A bundle's one price split over its tickets in proportion to their list prices (whole fen; the
    remainder goes to the first), so each order line records what its ticket cost and refunds stay exact."""
    total = sum(list_prices)
    if total <= 0:
        equal = price_fen // len(list_prices)
        shares = [equal] * len(list_prices)
    else:
        shares = [price_fen * p // total for p in list_prices]
    shares[0] += price_fen - sum(shares)
    return tuple(shares)
