"""Refund and exchange fees for tickets bought online (R5.1, R5.2): a policy as data and pure functions
that quote the fee for a ticket at a given time. No I/O.

The shop shows the policy before payment and quotes what a refund or exchange would cost today on the
customer's order page. The fee is a percentage of the ticket's price, chosen by how long before the
session starts the request is made; rounded half up to the fen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.sales.pricing import percent_of


@dataclass(frozen=True, slots=True)
class FeeStep:
    """From `hours_before` hours before the start (and earlier), the fee is `percent` of the price."""

    hours_before: int
    percent: int


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """Steps sorted from the earliest; later than the last step nothing is refunded or exchanged."""

    steps: tuple[FeeStep, ...]

    def percent_at(self, starts_at: dt.datetime, when: dt.datetime) -> int | None:
        """The fee percent for a request at `when`; None when it is too late."""
        hours_left = (starts_at - when).total_seconds() / 3600
        for step in sorted(self.steps, key=lambda s: -s.hours_before):
            if hours_left >= step.hours_before:
                return step.percent
        return None


# Full refund less 5% until 48 h before the start, less 20% until 24 h, none after.
REFUND_POLICY = FeePolicy((FeeStep(48, 5), FeeStep(24, 20)))
# Exchanging (another seat or session) is free until 48 h before, 10% until 24 h, not possible after.
EXCHANGE_POLICY = FeePolicy((FeeStep(48, 0), FeeStep(24, 10)))


@dataclass(frozen=True, slots=True)
class Quote:
    """What a refund (or exchange) of tickets costs at a moment: allowed, fee and what comes back."""

    allowed: bool
    percent: int
    price_fen: int
    fee_fen: int
    back_fen: int  # refund: the money returned; exchange: the value carried to the new ticket


def quote(policy: FeePolicy, prices_fen: list[int], starts_at: dt.datetime, when: dt.datetime) -> Quote:
    """The fee for refunding or exchanging tickets of these prices at `when` (per-ticket rounding)."""
    total = sum(prices_fen)
    percent = policy.percent_at(starts_at, when)
    if percent is None:
        return Quote(False, 100, total, total, 0)
    fees = sum(price - percent_of(price, percent) for price in prices_fen)
    return Quote(True, percent, total, fees, total - fees)
