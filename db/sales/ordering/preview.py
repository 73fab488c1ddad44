"""What the box office shows before it holds anything (R3.4 step 2, R3.5, R3.6): a price preview of the
tickets chosen, with the group discount and concessions, and a suggestion of N seats together.

Reads only; the order itself is priced again, and held, by db.sales.ordering.orders.create_order."""

from __future__ import annotations

from dataclasses import dataclass

from db.catalog.operations import session_prices
from db.core.errors import InvalidInput
from db.inventory.promotions import Offer
from db.inventory.stock import best_free_seats
from db.sales.ordering.pricing import group_tier, unit_price
from db.sales.policy import concession_rules, group_tiers


@dataclass(frozen=True, slots=True)
class QuoteTicket:
    price_class_id: int
    concession: str = ""


async def quote(session_id: int, tickets: list[QuoteTicket], offer: Offer | None = None) -> dict:
    """The price of each ticket and the totals, as the order would be priced now:
    {"tickets": [{"price_class", "list_fen", "unit_fen", "concession", "breakdown"}], "size", "subtotal_fen",
    "total_fen", "group_percent_off", "next_tier"} (next_tier: the next group tier not yet reached, or None).
    With `offer` (a promotion the sale may use, issue 13) its classes are priced by it."""
    classes = {c["id"]: c for c in await session_prices(session_id)}
    unknown = [t.price_class_id for t in tickets if t.price_class_id not in classes]
    if unknown:
        raise InvalidInput(
            "Price class {price_class} is not sold for this session.", field="items", price_class=unknown[0]
        )
    rules = await concession_rules({t.concession for t in tickets if t.concession})
    tiers = await group_tiers()
    tier = group_tier(len(tickets), tiers)
    percent_off = tier.percent_off if tier else 0
    lines = []
    for t in tickets:
        pc = classes[t.price_class_id]
        promotion = (offer.id, offer.rule) if offer and offer.covers(t.price_class_id) else None
        unit, breakdown = unit_price(pc["price_fen"], rules.get(t.concession), percent_off, promotion)
        lines.append(
            {
                "price_class": pc["name"],
                "list_fen": pc["price_fen"],
                "unit_fen": unit,
                "concession": t.concession,
                "breakdown": breakdown,
            }
        )
    higher = [t for t in tiers if t.min_size > len(tickets)]
    return {
        "tickets": lines,
        "size": len(tickets),
        "subtotal_fen": sum(line["list_fen"] for line in lines),
        "total_fen": sum(line["unit_fen"] for line in lines),
        "group_percent_off": percent_off,
        "next_tier": min(higher, key=lambda t: t.min_size) if higher else None,
    }


async def suggest_seats(session_id: int, price_class_id: int, n: int) -> list[int]:
    """The best `n` free seats side by side in a class (front rows, then the middle), without holding them."""
    if not 1 <= n <= 50:
        raise InvalidInput("The quantity must be between 1 and {max}.", field="best", max=50)
    picked = await best_free_seats(session_id, price_class_id, n)
    if picked is None:
        raise InvalidInput("No row has {n} free seats together in this class.", field="best", n=n)
    return picked
