"""What a report's table and chart are made of (the page, the exports and the e-mailed file read them)."""

from __future__ import annotations

from dataclasses import dataclass

TEXT, FEN, COUNT, PERCENT = "text", "fen", "count", "percent"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # English msgid
    kind: str = TEXT
    labels: str | None = None  # codes shown through web.labels.ALL[labels] (CHANNEL, PAYMENT_METHOD, ...)


@dataclass(frozen=True, slots=True)
class Chart:
    kind: str  # bar | line
    x: tuple[str, ...]  # the columns that label a point (joined)
    series: tuple[str, ...]  # the columns drawn
    split: str | None = None  # a column whose values become one series each (of series[0])
    stacked: bool = False
