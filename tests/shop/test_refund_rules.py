"""The refund and exchange fee rules shown before payment and quoted on the order page (R5.1, R5.2)."""

from __future__ import annotations

import datetime as dt

import pytest

from db.sales.shop_refund_rules import EXCHANGE_POLICY, REFUND_POLICY, FeePolicy, FeeStep, quote

START = dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("hours_before", "refund_percent", "exchange_percent"),
    [(200, 5, 0), (48, 5, 0), (47.99, 20, 10), (24, 20, 10), (23.99, None, None), (0, None, None), (-5, None, None)],
)
def test_fee_steps_by_time_before_the_start(hours_before, refund_percent, exchange_percent):
    when = START - dt.timedelta(hours=hours_before)
    assert REFUND_POLICY.percent_at(START, when) == refund_percent
    assert EXCHANGE_POLICY.percent_at(START, when) == exchange_percent


def test_quote_rounds_each_ticket_and_sums():
    early = quote(REFUND_POLICY, [50000, 12345], START, START - dt.timedelta(days=5))
    assert (early.allowed, early.percent, early.price_fen) == (True, 5, 62345)
    assert early.fee_fen == 2500 + 617 and early.back_fen == 62345 - early.fee_fen
    late = quote(REFUND_POLICY, [50000], START, START - dt.timedelta(hours=30))
    assert (late.fee_fen, late.back_fen) == (10000, 40000)
    too_late = quote(REFUND_POLICY, [50000], START, START - dt.timedelta(hours=1))
    assert (too_late.allowed, too_late.back_fen) == (False, 0)
    free = quote(EXCHANGE_POLICY, [50000], START, START - dt.timedelta(days=3))
    assert (free.allowed, free.fee_fen, free.back_fen) == (True, 0, 50000)


def test_steps_in_any_order_pick_the_earliest_deadline_reached():
    policy = FeePolicy((FeeStep(24, 20), FeeStep(72, 0), FeeStep(48, 5)))
    assert [policy.percent_at(START, START - dt.timedelta(hours=h)) for h in (100, 60, 30, 10)] == [0, 5, 20, None]
