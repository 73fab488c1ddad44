"""Pure sales rules (R3.5, R3.6): discounts, group tiers, adjacent seats, ID masking."""

from __future__ import annotations

import pytest

from db.core.errors import InvalidInput
from db.sales.ordering.buyer import Buyer, clean_buyer, clean_id_check, mask_id
from db.sales.ordering.pricing import ConcessionRule, Tier, group_tier, percent_of, unit_price
from db.sales.ordering.seating import PlanSeat, best_window

TIERS = [Tier(10, 10), Tier(30, 15), Tier(50, 20)]


@pytest.mark.parametrize(
    ("amount", "off", "expected"),
    [
        (10000, 50, 5000),
        (999, 50, 500),
        (998, 50, 499),
        (1, 50, 1),
        (12345, 0, 12345),
        (12345, 100, 0),
        (3333, 10, 3000),
    ],
)
def test_percent_off_rounds_half_up_to_the_fen(amount, off, expected):
    assert percent_of(amount, off) == expected


@pytest.mark.parametrize(
    ("size", "tier"),
    [(1, None), (9, None), (10, Tier(10, 10)), (29, Tier(10, 10)), (30, Tier(30, 15)), (200, Tier(50, 20))],
)
def test_group_tier_is_the_best_reached(size, tier):
    assert group_tier(size, TIERS) == tier
    assert group_tier(size, reversed(TIERS)) == tier


def test_unit_price_concession_replaces_group_discount():
    student = ConcessionRule("student", percent_off=50)
    assert unit_price(28000, student, 10) == (
        14000,
        {"list_fen": 28000, "concession": "student", "concession_off_fen": 14000},
    )
    fixed = ConcessionRule("child", fixed_price_fen=2000)
    assert unit_price(5000, fixed, 0)[0] == 2000
    assert unit_price(1500, fixed, 0)[0] == 1500  # a fixed concession price never raises the price
    assert unit_price(28000, None, 10) == (25200, {"list_fen": 28000, "group_percent_off": 10, "group_off_fen": 2800})
    assert unit_price(28000, None, 0) == (28000, {"list_fen": 28000})


def _row(section, row, y, xs, taken=()):
    return [PlanSeat(int(f"{y}{x:02d}"), section, row, x, y, x not in taken) for x in xs]


def test_best_window_prefers_front_rows_and_the_middle_and_skips_aisles():
    xs = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]  # an aisle between x=5 and x=7
    plan = _row("池座", "1", 1, xs, taken={2, 3, 8, 9}) + _row("池座", "2", 2, xs)
    assert best_window(plan, 2)[1] == [104, 105]  # row 1 has a pair next to the middle
    assert best_window(plan, 3)[1] == [203, 204, 205]  # row 1 has no three together; row 2's middle-most run
    assert best_window(plan, 6) is None  # the aisle splits every row into fives
    assert best_window(plan, 1)[1] in ([105], [107])


def test_id_numbers_are_masked_and_buyers_checked():
    assert mask_id("110101199003071234") == "1101**********1234"
    assert mask_id("E1234567") == "E*******"
    assert mask_id("") == ""
    assert clean_id_check("student_card", "2023 0101 5678") == ("student_card", "2023****5678")
    with pytest.raises(InvalidInput):
        clean_id_check("library_card", "12345678")
    with pytest.raises(InvalidInput):
        clean_id_check("student_card", "")
    assert clean_buyer(Buyer(" 王小明 ", "138 0013 8000", "")).name == "王小明"
    for bad in (
        Buyer("", "13800138000"),
        Buyer("王", "call me"),
        Buyer("王", "13800138000", "not-an-email"),
        Buyer("王", "13800138000", "", "12-34"),
    ):
        with pytest.raises(InvalidInput):
            clean_buyer(bad)
