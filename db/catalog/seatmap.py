"""Seat maps from CSV (documented in README.md): pure parsing and validation, no I/O.

Columns, with a header row: section,row,number,seat_class,x,y
- section: the block or area name (池座, 楼座, A1 ...); row: the row label; number: the seat number
- seat_class: the class its price comes from (VIP, A, B ...)
- x, y: the seat's position on the plan in grid units (whole numbers >= 0)"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

COLUMNS = ("section", "row", "number", "seat_class", "x", "y")
MAX_SEATS = 100_000


@dataclass(frozen=True, slots=True)
class SeatRow:
    section: str
    row: str
    number: int
    seat_class: str
    x: int
    y: int


class SeatMapError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_seat_csv(text: str) -> list[SeatRow]:
    """All seats of the file, or SeatMapError listing every problem with its line number."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != list(COLUMNS):
        raise SeatMapError([f"line 1: the header must be {','.join(COLUMNS)}"])
    seats: list[SeatRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, int], int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(f"line {line_no}: expected {len(COLUMNS)} columns, found {len(row)}")
            continue
        section, row_label, number, seat_class, x, y = (cell.strip() for cell in row)
        if not section or not row_label or not seat_class:
            problems.append(f"line {line_no}: section, row and seat_class must not be empty")
            continue
        try:
            number_i, x_i, y_i = int(number), int(x), int(y)
        except ValueError:
            problems.append(f"line {line_no}: number, x and y must be whole numbers")
            continue
        if number_i < 1 or x_i < 0 or y_i < 0:
            problems.append(f"line {line_no}: number must be >= 1 and x, y >= 0")
            continue
        if len(section) > 40 or len(row_label) > 10 or len(seat_class) > 20:
            problems.append(f"line {line_no}: section (40), row (10) or seat_class (20) is too long")
            continue
        key = (section, row_label, number_i)
        if key in seen:
            problems.append(f"line {line_no}: seat {section} {row_label}-{number_i} repeats line {seen[key]}")
            continue
        seen[key] = line_no
        seats.append(SeatRow(section, row_label, number_i, seat_class, x_i, y_i))
        if len(seats) > MAX_SEATS:
            problems.append(f"more than {MAX_SEATS} seats")
            break
    if not seats and not problems:
        problems.append("the file has no seats")
    if problems:
        raise SeatMapError(problems[:50])
    return seats


def seat_label(section: str, row: str, number: int) -> str:
    return f"{section} {row}排{number}座"
