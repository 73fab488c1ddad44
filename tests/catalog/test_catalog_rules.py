"""Pure catalog rules, exhaustively: prices typed in yuan, the price in force at a time, and seat-map
CSV parsing (R3.1, R3.2)."""

from __future__ import annotations

import datetime as dt

import pytest

from db.catalog.pricing import ScheduledPrice, price_at, upcoming, yuan_to_fen
from db.catalog.seatmap import SeatMapError, SeatRow, parse_seat_csv
from db.core.errors import InvalidInput

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
HEADER = "section,row,number,seat_class,x,y\n"


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("0", 0),
        ("12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("0.1", 10),
        ("0.01", 1),
        ("0.29", 29),
        ("1.13", 113),
        (" 128 ", 12800),
        ("¥1,280.00", 128000),
        ("￥99.99", 9999),
        ("999999999.99", 99999999999),
    ],
)
def test_yuan_becomes_exact_fen(typed, fen):
    assert yuan_to_fen(typed) == fen


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "below zero"),
        ("-0.5", "below zero"),
        ("", "yuan"),
        ("abc", "yuan"),
        ("1.234", "yuan"),
        ("1e3", "yuan"),
        ("1.", "yuan"),
        (".5", "yuan"),
        ("NaN", "yuan"),
        ("1 000 000 000 0", "yuan"),
    ],
)
def test_bad_prices_are_refused_with_a_reason(typed, message):
    with pytest.raises(InvalidInput) as refused:
        yuan_to_fen(typed, field="pc_price_3")
    assert message in refused.value.message and refused.value.field == "pc_price_3"


def test_price_in_force_follows_the_latest_change_whose_time_has_come():
    changes = [ScheduledPrice(900, T0 + dt.timedelta(days=2), "b"), ScheduledPrice(800, T0 + dt.timedelta(days=1), "a")]
    assert price_at(1000, changes, T0) == 1000
    assert price_at(1000, changes, T0 + dt.timedelta(days=1) - dt.timedelta(microseconds=1)) == 1000
    assert price_at(1000, changes, T0 + dt.timedelta(days=1)) == 800
    assert price_at(1000, changes, T0 + dt.timedelta(days=3)) == 900
    assert price_at(1000, [], T0) == 1000
    assert [c.notice for c in upcoming(changes, T0)] == ["a", "b"]
    assert [c.notice for c in upcoming(changes, T0 + dt.timedelta(days=1))] == ["b"]
    assert upcoming(changes, T0 + dt.timedelta(days=2)) == []


def test_seat_csv_accepts_bom_spaces_blank_lines_and_header_case():
    seats = parse_seat_csv("\ufeffSection, Row ,number,SEAT_CLASS,x,y\n池座, 1 , 2 ,VIP,3,0\n\n,,,,,\n楼座,A,1,B,0,9\n")
    assert seats == [SeatRow("池座", "1", 2, "VIP", 3, 0), SeatRow("楼座", "A", 1, "B", 0, 9)]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("池座,1,1,VIP,1\n", 2, "expected {expected} columns, found {found}"),
        (",1,1,VIP,1,1\n", 2, "section, row and seat_class must not be empty"),
        ("池座,1,1.5,VIP,1,1\n", 2, "number, x and y must be whole numbers"),
        ("池座,1,0,VIP,1,1\n", 2, "number must be 1 or more, and x and y 0 or more"),
        ("池座,1,1,VIP,-1,1\n", 2, "number must be 1 or more, and x and y 0 or more"),
        ("池座,12345678901,1,VIP,1,1\n", 2, "section (40), row (10) or seat_class (20) is too long"),
        ("", 1, "the file has no seats"),
    ],
)
def test_each_kind_of_bad_line_is_named_with_its_line_number(body, line, message):
    with pytest.raises(SeatMapError) as refused:
        parse_seat_csv(HEADER + body)
    assert [(p.line, p.message) for p in refused.value.problems] == [(line, message)]
    assert refused.value.field == "seat_csv" and refused.value.params["count"] == 1


def test_every_bad_line_is_listed_not_just_the_first():
    body = "".join(f"池座,1,{n},VIP,{n},x\n" for n in range(1, 8)) + "池座,2,1,VIP,1,2\n池座,2,1,VIP,2,2\n"
    with pytest.raises(SeatMapError) as refused:
        parse_seat_csv(HEADER + body)
    problems = refused.value.problems
    assert [p.line for p in problems] == [2, 3, 4, 5, 6, 7, 8, 10]
    assert problems[-1].params == {"seat": "池座 2-1", "first": 9}


def test_a_wrong_header_is_one_problem_on_line_one():
    with pytest.raises(SeatMapError) as refused:
        parse_seat_csv("section,row,seat,class,x,y\n池座,1,1,VIP,1,1\n")
    assert [(p.line, p.params) for p in refused.value.problems] == [
        (1, {"header": "section,row,number,seat_class,x,y"})
    ]
