"""Seat maps from CSV (documented in README.md): pure parsing and validation, no I/O.

Columns, with a header row: section,row,number,seat_class,x,y[,obstructed]
- section: the block or area name (池座, 楼座, A1 ...); row: the row label; number: the seat number
- seat_class: the class its price comes from (VIP, A, B ...)
- x, y: the seat's position on the plan in grid units (whole numbers >= 0)
- obstructed (optional column): 1 / yes / 是 for a seat with an obstructed view (shown so to buyers; its
  refund is always fee-free), empty / 0 / no / 否 otherwise

A file with any bad line is refused whole: SeatMapError lists every problem with its line number, each
as an English msgid with parameters so the page can show it in the user's language."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from db.core.errors import InvalidInput

COLUMNS = ("section", "row", "number", "seat_class", "x", "y")
OPTIONAL = ("obstructed",)
YES = ("1", "yes", "y", "true", "是")
NO = ("", "0", "no", "n", "false", "否")
MAX_SEATS = 100_000


@dataclass(frozen=True, slots=True)
class SeatRow:
    section: str
    row: str
    number: int
    seat_class: str
    x: int
    y: int
    obstructed: bool = False


@dataclass(frozen=True, slots=True)
class SeatProblem:
    line: int
    message: str  # English msgid with {param} placeholders
    params: dict[str, object] = field(default_factory=dict)


class SeatMapError(InvalidInput):
    """The CSV was refused; `problems` names every bad line."""

    def __init__(self, problems: list[SeatProblem]) -> None:
        super().__init__(
            "The seat map has {count} problem(s); nothing was saved. Correct the lines listed and try again.",
            field="seat_csv",
            count=len(problems),
        )
        self.problems = problems


def _check_row(line: int, row: list[str], width: int) -> SeatRow | SeatProblem:
    if len(row) != width:
        return SeatProblem(line, "expected {expected} columns, found {found}", {"expected": width, "found": len(row)})
    section, row_label, number, seat_class, x, y = (cell.strip() for cell in row[: len(COLUMNS)])
    flag = row[len(COLUMNS)].strip().lower() if width > len(COLUMNS) else ""
    if flag not in YES and flag not in NO:
        return SeatProblem(line, "obstructed must be 1 or 0 (yes or no)")
    if not section or not row_label or not seat_class:
        return SeatProblem(line, "section, row and seat_class must not be empty")
    try:
        number_i, x_i, y_i = int(number), int(x), int(y)
    except ValueError:
        return SeatProblem(line, "number, x and y must be whole numbers")
    if number_i < 1 or x_i < 0 or y_i < 0:
        return SeatProblem(line, "number must be 1 or more, and x and y 0 or more")
    if len(section) > 40 or len(row_label) > 10 or len(seat_class) > 20:
        return SeatProblem(line, "section (40), row (10) or seat_class (20) is too long")
    return SeatRow(section, row_label, number_i, seat_class, x_i, y_i, flag in YES)


def parse_seat_csv(text: str) -> list[SeatRow]:
    """All seats of the file, or SeatMapError listing every problem with its line number."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    if names not in (list(COLUMNS), list(COLUMNS + OPTIONAL)):
        raise SeatMapError([SeatProblem(1, "the header must be {header}", {"header": ",".join(COLUMNS)})])
    seats: list[SeatRow] = []
    problems: list[SeatProblem] = []
    seen: dict[tuple[str, str, int], int] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        checked = _check_row(line, row, len(names))
        if isinstance(checked, SeatProblem):
            problems.append(checked)
            continue
        key = (checked.section, checked.row, checked.number)
        if key in seen:
            problems.append(
                SeatProblem(
                    line,
                    "seat {seat} repeats line {first}",
                    {"seat": f"{key[0]} {key[1]}-{key[2]}", "first": seen[key]},
                )
            )
            continue
        seen[key] = line
        seats.append(checked)
        if len(seats) > MAX_SEATS:
            problems.append(SeatProblem(line, "more than {max} seats", {"max": MAX_SEATS}))
            break
    if not seats and not problems:
        problems.append(SeatProblem(1, "the file has no seats"))
    if problems:
        raise SeatMapError(problems)
    return seats
