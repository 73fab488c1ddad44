"""Refund and exchange rules and the ONE quote (R5.1, R5.2, R1.1): pure, no I/O.

A rule set is what a policy version says: stepped fee tiers by time before the session (梯次退票), each a
percentage with an optional minimum and maximum fee in fen; a fee-free window after purchase; whether only
whole orders may be refunded; whether exchanges are allowed and their own tiers; the refund amount above
which a supervisor approves. `quote` answers, for some tickets, a policy version and a moment: allowed or
the reason it is not, the fee with its breakdown per ticket, and the money back. The shop, the box office,
the partner API and the bulk jobs all call it.

Tier edges: a tier applies while at least `hours_before` hours are left before the start (exactly 48 h
left still gets the "48 h" tier); later than the last tier nothing is refunded (or exchanged). Fees are
rounded half up to the fen per ticket, then held between the tier's minimum and maximum, and never more
than the ticket's price. Obstructed-view seats (2025 performance-service standard) and a waived fee (the
organiser cancelled or changed the session) are always fee-free; a waiver also lifts the time limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from db.core.errors import InvalidInput

REFUND = "refund"
EXCHANGE = "exchange"
MAX_FEE_FEN = 100_000_000  # one million yuan: larger is a typing error, not a fee

ALREADY_USED = "already_used"
ALREADY_REFUNDED = "already_refunded"
FOREIGN_TICKET = "foreign_ticket"
NO_TICKETS = "no_tickets"
# Why a quote refuses: codes (stable, in the partner API) and their English msgids (zh_CN in aftersale.po).
REASONS = {
    "too_late": "Too late: the rules allow no refund this close to the start.",
    "exchange_too_late": "Too late: the rules allow no exchange this close to the start.",
    "exchange_not_allowed": "This event's rules allow no exchanges.",
    "already_used": "A ticket was already used at the gate.",
    "already_refunded": "A ticket was already refunded, exchanged or cancelled.",
    "whole_order_only": "This event's rules refund whole orders only.",
    "not_paid": "The order is not paid.",
    "no_tickets": "No tickets to refund.",
    "foreign_ticket": "A ticket does not belong to this order.",
}


@dataclass(frozen=True, slots=True)
class Tier:
    """While at least `hours_before` hours are left, the fee is `percent` of the price, within min/max."""

    hours_before: int
    percent: int
    min_fee_fen: int = 0
    max_fee_fen: int | None = None

    def fee(self, price_fen: int) -> int:
        fee = (price_fen * self.percent * 2 + 100) // 200  # half up
        fee = max(fee, self.min_fee_fen)
        if self.max_fee_fen is not None:
            fee = min(fee, self.max_fee_fen)
        return min(fee, price_fen)


@dataclass(frozen=True, slots=True)
class Rules:
    refund_tiers: tuple[Tier, ...]  # from the earliest (most hours before) to the latest
    free_window_hours: int = 0  # refunds within this many hours after purchase are fee-free
    whole_order_only: bool = False
    exchange_allowed: bool = True
    exchange_tiers: tuple[Tier, ...] = ()
    approval_above_fen: int | None = None  # a refund of more than this waits for a supervisor

    def tiers(self, kind: str) -> tuple[Tier, ...]:
        return self.refund_tiers if kind == REFUND else self.exchange_tiers

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def needs_approval(self, refund_fen: int) -> bool:
        return self.approval_above_fen is not None and refund_fen > self.approval_above_fen


def tier_at(tiers: Iterable[Tier], starts_at: dt.datetime, when: dt.datetime) -> Tier | None:
    """The tier in force at `when`, None when it is later than the last tier."""
    left = starts_at - when
    for tier in tiers:  # ordered from the most hours before
        if left >= dt.timedelta(hours=tier.hours_before):
            return tier
    return None


def _int(value: Any, what: str, *, low: int = 0, high: int = MAX_FEE_FEN, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput("{what} must be a whole number.", field=field_name, what=what)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput("{what} must be a whole number.", field=field_name, what=what) from None
    if not low <= number <= high:
        raise InvalidInput("{what} must be between {low} and {high}.", field=field_name, what=what, low=low, high=high)
    return number


def _tiers(raw: Any, field_name: str) -> tuple[Tier, ...]:
    if not isinstance(raw, list | tuple):
        raise InvalidInput("The tiers must be a list.", field=field_name)
    tiers = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise InvalidInput(
                "Each tier needs hours, percent and optional minimum and maximum fees.", field=field_name
            )
        max_fee = item.get("max_fee_fen")
        tier = Tier(
            _int(item.get("hours_before"), "Hours before the start", high=24 * 366, field_name=field_name),
            _int(item.get("percent"), "The fee percent", high=100, field_name=field_name),
            _int(item.get("min_fee_fen") or 0, "The minimum fee", field_name=field_name),
            None if max_fee in (None, "") else _int(max_fee, "The maximum fee", field_name=field_name),
        )
        if tier.max_fee_fen is not None and tier.max_fee_fen < tier.min_fee_fen:
            raise InvalidInput("A tier's maximum fee is below its minimum fee.", field=field_name)
        tiers.append(tier)
    for earlier, later in zip(tiers, tiers[1:], strict=False):
        if later.hours_before == earlier.hours_before:
            raise InvalidInput(
                "Two tiers start at {hours} hours: tiers must not overlap.", field=field_name, hours=later.hours_before
            )
        if later.hours_before > earlier.hours_before:
            raise InvalidInput("List the tiers from the most hours before the start to the fewest.", field=field_name)
        if later.percent < earlier.percent:
            raise InvalidInput("A later tier may not have a lower fee than an earlier one.", field=field_name)
    return tuple(tiers)


def parse_rules(raw: Mapping[str, Any]) -> Rules:
    """Rules from their JSON form (a stored version or a form), checked: InvalidInput names what is wrong."""
    refund_tiers = _tiers(raw.get("refund_tiers", ()), "refund_tiers")
    exchange_allowed = bool(raw.get("exchange_allowed", True))
    exchange_tiers = _tiers(raw.get("exchange_tiers", ()), "exchange_tiers")
    if exchange_allowed and not exchange_tiers:
        raise InvalidInput("Exchanges are allowed but have no tiers.", field="exchange_tiers")
    approval = raw.get("approval_above_fen")
    return Rules(
        refund_tiers=refund_tiers,
        free_window_hours=_int(
            raw.get("free_window_hours") or 0, "The free window", high=24 * 90, field_name="free_window_hours"
        ),
        whole_order_only=bool(raw.get("whole_order_only", False)),
        exchange_allowed=exchange_allowed,
        exchange_tiers=exchange_tiers,
        approval_above_fen=None
        if approval in (None, "")
        else _int(approval, "The approval threshold", field_name="approval_above_fen"),
    )


@dataclass(frozen=True, slots=True)
class TicketTerms:
    """What the quote needs to know about one ticket."""

    ticket_id: int
    price_fen: int
    purchased_at: dt.datetime
    status: str = "issued"  # issued | revoked
    admitted: bool = False
    obstructed: bool = False


@dataclass(frozen=True, slots=True)
class QuoteLine:
    ticket_id: int
    price_fen: int
    percent: int
    fee_fen: int
    refund_fen: int
    basis: str  # tier | free_window | obstructed | waived


@dataclass(frozen=True, slots=True)
class Quote:
    kind: str  # refund | exchange
    allowed: bool
    reason: str | None  # a key of REASONS when not allowed
    policy_version: int
    fee_fen: int
    refund_fen: int  # refund: the money back; exchange: the value carried to the new ticket
    price_fen: int
    tier: Tier | None
    lines: tuple[QuoteLine, ...] = field(default_factory=tuple)
    new_price_fen: int = 0  # exchange: the new tickets' price
    difference_fen: int = 0  # exchange: new price less the value carried; + the buyer pays, - is paid back

    def breakdown(self) -> dict[str, Any]:
        """The stored and shown breakdown (R5.2)."""
        return {
            "kind": self.kind,
            "policy_version": self.policy_version,
            "tier": _flat(self.tier) if self.tier else None,
            "price_fen": self.price_fen,
            "fee_fen": self.fee_fen,
            "refund_fen": self.refund_fen,
            "lines": [_flat(line) for line in self.lines],
            **(
                {"new_price_fen": self.new_price_fen, "difference_fen": self.difference_fen}
                if self.kind == EXCHANGE
                else {}
            ),
        }


def _flat(record: Tier | QuoteLine) -> dict[str, Any]:
    """A record of plain fields as a dict (dataclasses.asdict copies recursively: a tenth of the bulk refund's
    time went into it)."""
    return {name: getattr(record, name) for name in record.__slots__}


def _refused(kind: str, reason: str, version: int, price: int) -> Quote:
    return Quote(kind, False, reason, version, 0, 0, price, None)


def quote(
    rules: Rules,
    version: int,
    tickets: Iterable[TicketTerms],
    starts_at: dt.datetime,
    when: dt.datetime,
    *,
    kind: str = REFUND,
    whole_order: bool = True,
    waived: bool = False,
    new_price_fen: int = 0,
) -> Quote:
    """What refunding (or exchanging) `tickets` under `rules` costs at `when`. `whole_order`: the tickets are
    every ticket of the order; `waived`: the organiser cancelled or changed the session (fee-free, no limit).
    An exchange for new tickets worth `new_price_fen` carries the price less the exchange fee and charges (or
    pays back) the difference: `difference_fen` = new price - value carried."""
    tickets = tuple(tickets)
    price = sum(t.price_fen for t in tickets)
    if not tickets:
        return _refused(kind, "no_tickets", version, 0)
    if any(t.admitted for t in tickets):
        return _refused(kind, "already_used", version, price)
    if any(t.status != "issued" for t in tickets):
        return _refused(kind, "already_refunded", version, price)
    if kind == EXCHANGE and not rules.exchange_allowed and not waived:
        return _refused(kind, "exchange_not_allowed", version, price)
    if kind == REFUND and rules.whole_order_only and not whole_order and not waived:
        return _refused(kind, "whole_order_only", version, price)
    tier = None if waived else tier_at(rules.tiers(kind), starts_at, when)
    if tier is None and not waived:
        return _refused(kind, "too_late" if kind == REFUND else "exchange_too_late", version, price)
    lines = []
    for t in tickets:
        if waived:
            basis, fee = "waived", 0
        elif t.obstructed:
            basis, fee = "obstructed", 0
        elif kind == REFUND and when - t.purchased_at < dt.timedelta(hours=rules.free_window_hours):
            basis, fee = "free_window", 0
        else:
            basis, fee = "tier", tier.fee(t.price_fen)
        lines.append(
            QuoteLine(t.ticket_id, t.price_fen, 0 if basis != "tier" else tier.percent, fee, t.price_fen - fee, basis)
        )
    fee_total = sum(line.fee_fen for line in lines)
    carried = price - fee_total
    if kind != EXCHANGE:
        return Quote(kind, True, None, version, fee_total, carried, price, tier, tuple(lines))
    return Quote(
        kind, True, None, version, fee_total, carried, price, tier, tuple(lines), new_price_fen, new_price_fen - carried
    )


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:.2f}"


def describe(rules: Rules) -> list[tuple[str, dict[str, Any]]]:
    """The rules as buyers read them: (English msgid, params) lines, shown before payment, on the order page,
    the e-mail and the PDF ticket (zh_CN in aftersale.po)."""
    lines: list[tuple[str, dict[str, Any]]] = []
    for t in rules.refund_tiers:
        lines.append(
            (
                "From {hours} hours before the start: refund less {percent}% of the price."
                if t.percent
                else "From {hours} hours before the start: refund without a fee.",
                {"hours": t.hours_before, "percent": t.percent},
            )
        )
        if t.min_fee_fen:
            lines.append(("At least {fee}.", {"fee": _yuan(t.min_fee_fen)}))
        if t.max_fee_fen is not None:
            lines.append(("At most {fee}.", {"fee": _yuan(t.max_fee_fen)}))
    if rules.refund_tiers:
        lines.append(
            ("Later than {hours} hours before the start: no refund.", {"hours": rules.refund_tiers[-1].hours_before})
        )
    else:
        lines.append(("No refunds.", {}))
    if rules.free_window_hours:
        lines.append(("Within {hours} hours after purchase: refund without a fee.", {"hours": rules.free_window_hours}))
    if rules.whole_order_only:
        lines.append(("Whole orders only.", {}))
    if rules.exchange_allowed and rules.exchange_tiers:
        for t in rules.exchange_tiers:
            lines.append(
                (
                    "From {hours} hours before the start: exchange for {percent}% of the price."
                    if t.percent
                    else "From {hours} hours before the start: exchange without a fee.",
                    {"hours": t.hours_before, "percent": t.percent},
                )
            )
        lines.append(
            (
                "Later than {hours} hours before the start: no exchange.",
                {"hours": rules.exchange_tiers[-1].hours_before},
            )
        )
    else:
        lines.append(("No exchanges.", {}))
    lines.append(("Obstructed-view seats are always refunded without a fee.", {}))
    return lines


def better(a: Quote, b: Quote) -> Quote:
    """Of two quotes for the same tickets, the one better for the buyer: a later policy change never
    worsens an already-sold ticket's terms (the version in force at purchase is the buyer's contract)."""
    if a.allowed != b.allowed:
        return a if a.allowed else b
    if a.allowed and b.refund_fen > a.refund_fen:
        return b
    return a


# The rules every ticket sold before this issue was bought under (the old constant of shop_refund_rules):
# full refund less 5% until 48 h before, less 20% until 24 h, none after; exchanges free until 48 h, 10% until
# 24 h. The first stored policy version (made by the migration) holds them.
DEFAULT_RULES = Rules(
    refund_tiers=(Tier(48, 5), Tier(24, 20)),
    exchange_allowed=True,
    exchange_tiers=(Tier(48, 0), Tier(24, 10)),
    approval_above_fen=200_000,
)
