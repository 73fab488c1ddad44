"""The refund and exchange rule and its one quote (R5.1, R5.2, R1.1): pure, checked at every tier edge."""

from __future__ import annotations

import datetime as dt

import pytest

from db.core.errors import InvalidInput
from db.sales.aftersale.rules import (
    DEFAULT_RULES,
    EXCHANGE,
    Rules,
    TicketTerms,
    Tier,
    better,
    describe,
    parse_rules,
    quote,
    tier_at,
)

START = dt.datetime(2026, 12, 20, 11, 30, tzinfo=dt.UTC)  # 19:30 in Shanghai
BOUGHT = START - dt.timedelta(days=60)
SECOND = dt.timedelta(seconds=1)
H = dt.timedelta(hours=1)
RULES = Rules(
    refund_tiers=(Tier(48, 5, min_fee_fen=500), Tier(24, 20, max_fee_fen=5000)),
    free_window_hours=2,
    exchange_tiers=(Tier(72, 0), Tier(24, 10)),
    approval_above_fen=100_000,
)


def ticket(price: int = 38000, ticket_id: int = 1, **kw) -> TicketTerms:
    return TicketTerms(ticket_id, price, kw.pop("purchased_at", BOUGHT), **kw)


def at(left: dt.timedelta, *tickets: TicketTerms, rules: Rules = RULES, **kw):
    return quote(rules, 7, tickets or (ticket(),), START, START - left, **kw)


@pytest.mark.parametrize(
    ("left", "allowed", "fee"),
    [
        (30 * 24 * H, True, 1900),  # 5% of 380.00
        (48 * H + SECOND, True, 1900),
        (48 * H, True, 1900),  # exactly 48 h left: still the 48 h tier
        (48 * H - SECOND, True, 5000),  # 20% = 7600, held at the tier's maximum 50.00
        (24 * H, True, 5000),
        (24 * H - SECOND, False, 0),  # later than the last tier: no refund
        (SECOND, False, 0),
        (-H, False, 0),  # after the start
    ],
)
def test_each_tier_edge_decides_the_fee(left, allowed, fee):
    q = at(left)
    assert (q.allowed, q.fee_fen) == (allowed, fee)
    if allowed:
        assert q.refund_fen == 38000 - fee and q.reason is None and q.policy_version == 7
    else:
        assert q.reason == "too_late" and q.refund_fen == 0


def test_minimum_and_maximum_fee_and_half_up_rounding():
    assert at(72 * H, ticket(2000)).fee_fen == 500  # 5% = 100, raised to the minimum 5.00
    assert at(72 * H, ticket(300)).fee_fen == 300  # never more than the price
    assert at(30 * H, ticket(1000)).fee_fen == 200
    assert Tier(48, 5).fee(10) == 1  # 0.5 fen rounds up
    assert Tier(48, 5).fee(9) == 0  # 0.45 fen rounds down
    assert Tier(48, 5).fee(30) == 2  # 1.5 fen rounds up


def test_fees_are_per_ticket_and_the_breakdown_lists_each():
    q = at(72 * H, ticket(38000, 1), ticket(18000, 2), ticket(18000, 3, obstructed=True))
    assert [(line.ticket_id, line.fee_fen, line.basis) for line in q.lines] == [
        (1, 1900, "tier"),
        (2, 900, "tier"),
        (3, 0, "obstructed"),
    ]
    assert (q.price_fen, q.fee_fen, q.refund_fen) == (74000, 2800, 71200)
    breakdown = q.breakdown()
    assert breakdown["tier"] == {"hours_before": 48, "percent": 5, "min_fee_fen": 500, "max_fee_fen": None}
    assert breakdown["lines"][2]["basis"] == "obstructed" and breakdown["policy_version"] == 7


def test_free_window_after_purchase_ends_at_its_edge_but_not_after_the_last_tier():
    now = START - 40 * H
    inside = ticket(purchased_at=now - 2 * H + SECOND)
    edge = ticket(purchased_at=now - 2 * H)
    assert quote(RULES, 1, [inside], START, now).fee_fen == 0
    assert quote(RULES, 1, [inside], START, now).lines[0].basis == "free_window"
    assert quote(RULES, 1, [edge], START, now).fee_fen == 5000
    late = START - 23 * H
    assert not quote(RULES, 1, [ticket(purchased_at=late - H)], START, late).allowed


def test_obstructed_view_is_fee_free_at_every_tier():
    for left in (72 * H, 48 * H, 30 * H, 24 * H):
        assert at(left, ticket(obstructed=True)).fee_fen == 0


def test_waived_fee_lifts_the_time_limit_and_the_whole_order_rule():
    q = at(
        H, rules=Rules((Tier(48, 5),), whole_order_only=True, exchange_allowed=False), waived=True, whole_order=False
    )
    assert q.allowed and q.fee_fen == 0 and q.lines[0].basis == "waived"
    assert at(H, rules=Rules((Tier(48, 5),), exchange_allowed=False), waived=True, kind=EXCHANGE).allowed


def test_refusals_name_their_reason():
    assert at(72 * H, ticket(admitted=True)).reason == "already_used"
    assert at(72 * H, ticket(status="revoked")).reason == "already_refunded"
    assert at(72 * H, ticket(admitted=True, status="revoked")).reason == "already_used"
    whole_only = Rules((Tier(48, 5),), whole_order_only=True, exchange_allowed=False)
    assert at(72 * H, rules=whole_only, whole_order=False).reason == "whole_order_only"
    assert at(72 * H, rules=whole_only, whole_order=True).allowed
    assert at(72 * H, rules=whole_only, kind=EXCHANGE).reason == "exchange_not_allowed"
    assert quote(RULES, 1, [], START, START - 72 * H).reason == "no_tickets"


@pytest.mark.parametrize(
    ("left", "allowed", "fee"),
    [(72 * H, True, 0), (72 * H - SECOND, True, 3800), (24 * H, True, 3800), (24 * H - SECOND, False, 0)],
)
def test_exchange_tiers_are_their_own(left, allowed, fee):
    q = at(left, kind=EXCHANGE)
    assert (q.allowed, q.fee_fen) == (allowed, fee)
    assert q.reason == (None if allowed else "exchange_too_late")


def test_free_window_is_for_refunds_only():
    now = START - 40 * H
    q = quote(RULES, 1, [ticket(purchased_at=now)], START, now, kind=EXCHANGE)
    assert q.fee_fen == 3800


def test_tier_at_reads_tiers_from_the_earliest():
    tiers = (Tier(168, 0), Tier(48, 10), Tier(2, 50))
    assert [tier_at(tiers, START, START - h * H) for h in (200, 168, 167, 48, 3, 2)] == [
        tiers[0],
        tiers[0],
        tiers[1],
        tiers[1],
        tiers[2],
        tiers[2],
    ]
    assert tier_at(tiers, START, START - 2 * H + SECOND) is None


def test_a_later_change_never_worsens_the_sold_ticket():
    strict = Rules((Tier(72, 50),), exchange_allowed=False)
    contract = quote(RULES, 1, [ticket()], START, START - 30 * H)
    later = quote(strict, 2, [ticket()], START, START - 30 * H)
    assert not later.allowed and better(contract, later) is contract
    kinder = quote(Rules((Tier(0, 0),), exchange_allowed=False), 3, [ticket()], START, START - 30 * H)
    assert better(contract, kinder) is kinder and kinder.fee_fen == 0


def test_parse_rules_round_trips_and_approval_threshold():
    assert parse_rules(RULES.as_json()) == RULES
    assert parse_rules(DEFAULT_RULES.as_json()) == DEFAULT_RULES
    assert RULES.needs_approval(100_001) and not RULES.needs_approval(100_000)
    assert not Rules(()).needs_approval(10**9)


def _raw(**changes):
    raw = RULES.as_json()
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            _raw(refund_tiers=[{"hours_before": 24, "percent": 5}, {"hours_before": 48, "percent": 20}]),
            "from the most hours",
        ),
        (
            _raw(refund_tiers=[{"hours_before": 24, "percent": 5}, {"hours_before": 24, "percent": 20}]),
            "must not overlap",
        ),
        (_raw(refund_tiers=[{"hours_before": 48, "percent": 20}, {"hours_before": 24, "percent": 5}]), "lower fee"),
        (_raw(refund_tiers=[{"hours_before": 48, "percent": 101}]), "between 0 and 100"),
        (_raw(refund_tiers=[{"hours_before": -1, "percent": 5}]), "between 0 and"),
        (_raw(refund_tiers=[{"hours_before": 48, "percent": 5, "min_fee_fen": -100}]), "between 0 and"),
        (
            _raw(refund_tiers=[{"hours_before": 48, "percent": 5, "min_fee_fen": 900, "max_fee_fen": 100}]),
            "below its minimum",
        ),
        (_raw(refund_tiers=[{"hours_before": 48, "percent": 5, "max_fee_fen": 10**12}]), "between 0 and"),
        (_raw(refund_tiers=[{"hours_before": "x", "percent": 5}]), "whole number"),
        (_raw(refund_tiers="48:5"), "must be a list"),
        (_raw(exchange_allowed=True, exchange_tiers=[]), "no tiers"),
        (_raw(approval_above_fen=-1), "between 0 and"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(InvalidInput) as caught:
        parse_rules(raw)
    assert message in caught.value.message.format(**caught.value.params)


def test_a_fee_free_tier_reads_as_free_not_as_zero_percent():
    rules = Rules((Tier(168, 0), Tier(48, 5)), exchange_tiers=(Tier(48, 0), Tier(24, 10)))
    lines = [text for text, _ in describe(rules)]
    assert "From {hours} hours before the start: refund without a fee." in lines
    assert "From {hours} hours before the start: exchange without a fee." in lines
    assert "From {hours} hours before the start: exchange for {percent}% of the price." in lines
