"""Sales price rules (R3.5, R3.6): pure functions, no I/O.

A line starts from the price in force (R3.2). A concession replaces it (percent off, or a fixed price
if lower); otherwise the group discount of the order's size applies. Amounts are integer fen, rounded
half up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from db.catalog.pricing import Discount, discounted, percent_of


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


def group_tier(size: int, tiers: Iterable[Tier]) -> Tier | None:
    """The best tier an order of `size` tickets reaches, or None."""
    reached = [t for t in tiers if size >= t.min_size]
    return max(reached, key=lambda t: t.min_size) if reached else None


def is_group(size: int, tiers: Iterable[Tier]) -> bool:
    return group_tier(size, tiers) is not None


def unit_price(
    list_fen: int,
    concession: ConcessionRule | None,
    group_percent_off: int,
    promotion: tuple[int, Discount] | None = None,
) -> tuple[int, dict]:
    """The price of one ticket and its breakdown (stored with the order line). A promotion (its id and
    rule, R4.3) takes the place of the group discount, and of a concession when it is cheaper."""
    if promotion is not None:
        promo_id, rule = promotion
        price, breakdown = unit_price(list_fen, concession, 0 if concession is None else group_percent_off)
        promoted = discounted(list_fen, rule)
        if concession is None or promoted < price:
            return promoted, {"list_fen": list_fen, "promotion": promo_id, "promotion_off_fen": list_fen - promoted}
        return price, breakdown
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
