"""Seat arrangement for groups (R3.5): pick N adjacent free seats in one row. Pure, no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanSeat:
    seat_id: int
    section: str
    row: str
    x: int
    y: int
    free: bool


def best_window(seats: Iterable[PlanSeat], n: int) -> tuple[tuple[int, float], list[int]] | None:
    """The best `n` free seats side by side (consecutive x, no aisle between) in one row of one section with
    their score (the front row's y, then the distance from the middle of the row: smaller is better); None when
    no row has room."""
    rows: dict[tuple[str, str], list[PlanSeat]] = defaultdict(list)
    for seat in seats:
        rows[(seat.section, seat.row)].append(seat)
    best: tuple[tuple[int, float], list[int]] | None = None
    for row_seats in rows.values():
        row_seats.sort(key=lambda s: s.x)
        middle = (row_seats[0].x + row_seats[-1].x) / 2
        for start in range(len(row_seats) - n + 1):
            window = row_seats[start : start + n]
            if not all(s.free for s in window) or window[-1].x - window[0].x != n - 1:
                continue
            score = (window[0].y, abs((window[0].x + window[-1].x) / 2 - middle))
            if best is None or score < best[0]:
                best = (score, [s.seat_id for s in window])
    return best
