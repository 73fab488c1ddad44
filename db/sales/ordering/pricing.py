"""Sales price rules (R3.5, R3.6): pure functions, no I/O.

A line starts from the price in force (R3.2). A concession replaces it (percent off, or a fixed price
if lower); otherwise the group discount of the order's size applies. Amounts are integer fen, rounded
half up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConcessionRule:
    code: str
    percent_off: int | None = None
    fixed_price_fen: int | None = None
    requires_id: bool = True


@dataclass(frozen=True, slots=True)
class Tier:
    min_size: int
    percent_off: int


def percent_of(amount_fen: int, percent_off: int) -> int:
    """`amount_fen` less `percent_off` percent, rounded half up to the fen."""
    return (amount_fen * (100 - percent_off) * 2 + 100) // 200


def group_tier(size: int, tiers: Iterable[Tier]) -> Tier | None:
    """The best tier an order of `size` tickets reaches, or None."""
    reached = [t for t in tiers if size >= t.min_size]
    return max(reached, key=lambda t: t.min_size) if reached else None


def is_group(size: int, tiers: Iterable[Tier]) -> bool:
    return group_tier(size, tiers) is not None


def unit_price(list_fen: int, concession: ConcessionRule | None, group_percent_off: int) -> tuple[int, dict]:
    """The price of one ticket and its breakdown (stored with the order line)."""
    if concession is not None:
        if concession.fixed_price_fen is not None:
            price = min(list_fen, concession.fixed_price_fen)
        else:
            price = percent_of(list_fen, concession.percent_off or 0)
        return price, {"list_fen": list_fen, "concession": concession.code, "concession_off_fen": list_fen - price}
    price = percent_of(list_fen, group_percent_off)
    breakdown = {"list_fen": list_fen}
    if group_percent_off:
        breakdown |= {"group_percent_off": group_percent_off, "group_off_fen": list_fen - price}
    return price, breakdown
