"""Budgets (R8.3, issue 12): a yearly budget per month and category, against actuals, with a warning when a
cost passes its budget.

Categories: ticket income (actual: the ledger's revenue, sale + fee kept + price difference, by the
venue-local month of the entry), and the costs recorded by staff: upstream ticket purchases, printing,
expenses (finance_cost; never edited, a correction is an entry of the opposite sign). A category's budget is
entered as lines "month,amount in yuan"; a month given twice, a month outside 1-12 or an amount that is not
money refuses the whole entry and writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Sum

from db.audit.record import record
from db.catalog.pricing import yuan_to_fen
from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.errors import InvalidInput
from db.core.transaction import queued_write
from db.finance import ledger
from db.finance.tables import Budget, Cost, LedgerEntry

INCOME = "ticket_income"
COSTS = ("upstream_purchase", "printing", "expenses")
CATEGORIES = (INCOME, *COSTS)
MAX_FEN = 10**12  # ten billion yuan (the amount columns are BigInt)
MONTHS = range(1, 13)


@dataclass(frozen=True, slots=True)
class Row:
    category: str
    budget: list[int]  # fen per month, 12 entries
    actual: list[int]

    @property
    def budget_total(self) -> int:
        return sum(self.budget)

    @property
    def actual_total(self) -> int:
        return sum(self.actual)

    @property
    def variance(self) -> list[int]:
        return [a - b for a, b in zip(self.actual, self.budget, strict=True)]

    @property
    def over(self) -> list[bool]:
        """Per month: a cost above its budget (income above budget is good news, never a warning)."""
        return [self.category in COSTS and a > b for a, b in zip(self.actual, self.budget, strict=True)]

    @property
    def over_year(self) -> bool:
        return self.category in COSTS and self.actual_total > self.budget_total


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("Enter a year from 2000 to 2100.", field="year")


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise InvalidInput("Choose a budget category.", field="category")


def parse_months(text: str) -> dict[int, int]:
    """Lines "month,amount" (amount in yuan; "3, 12000" or "3\t12000.50"); blank lines skipped."""
    months: dict[int, int] = {}
    first_line: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("\t", ",").replace("，", ",").split(",")]
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) not in MONTHS:
            raise InvalidInput(
                "Line {line}: write the month (1-12), a comma and the amount in yuan, e.g. 3,120000.",
                field="months",
                line=number,
            )
        month = int(parts[0])
        if month in months:
            raise InvalidInput(
                "Month {month} is given twice (lines {first} and {line}): give each month once.",
                field="months",
                month=month,
                first=first_line[month],
                line=number,
            )
        fen = yuan_to_fen(parts[1], field="months")
        if fen > MAX_FEN:
            raise InvalidInput("Line {line}: the amount is too large.", field="months", line=number)
        months[month], first_line[month] = fen, number
    if not months:
        raise InvalidInput("Give at least one month's amount.", field="months")
    return months


async def set_budget(actor: Actor, year: int, category: str, months: dict[int, int], now: dt.datetime | None = None):
    """Replace a category's budget for a year with the given months (the others become 0); audited with the
    amounts before and after."""
    _check_year(year)
    _check_category(category)
    now = now or utcnow()
    async with queued_write(Budget._meta.db):
        before = {
            r["month"]: r["amount_fen"]
            for r in await Budget.select(Budget.month, Budget.amount_fen).where(
                (Budget.year == year) & (Budget.category == category)
            )
        }
        await Budget.delete().where((Budget.year == year) & (Budget.category == category))
        await Budget.insert(
            *[
                Budget(year=year, month=m, category=category, amount_fen=fen, set_at=now, set_by=actor.name)
                for m, fen in sorted(months.items())
            ]
        )
        await record(
            actor,
            "budget.set",
            "budget",
            f"{year}:{category}",
            before={str(k): v for k, v in sorted(before.items())},
            after={str(k): v for k, v in sorted(months.items())},
        )


async def record_cost(
    actor: Actor, day: dt.date, category: str, amount_fen: int, note: str, now: dt.datetime | None = None
) -> int:
    """A cost recorded by staff (a correction: the opposite sign, with a note saying what it corrects)."""
    if category not in COSTS:
        raise InvalidInput("Choose a cost category.", field="category")
    if amount_fen == 0 or abs(amount_fen) > MAX_FEN:
        raise InvalidInput("Enter the amount in yuan (not 0).", field="amount")
    note = note.strip()
    if not note or len(note) > 500:
        raise InvalidInput("Say what the cost is for (up to 500 characters).", field="note")
    async with queued_write(Cost._meta.db):
        cost_id = (
            await Cost.insert(
                Cost(
                    day=day,
                    category=category,
                    amount_fen=amount_fen,
                    note=note,
                    recorded_at=now or utcnow(),
                    recorded_by=actor.name,
                )
            ).returning(Cost.id)
        )[0]["id"]
        await record(
            actor,
            "cost.record",
            "cost",
            cost_id,
            after={"day": day.isoformat(), "category": category, "amount_fen": amount_fen},
        )
    return cost_id


def _month_window(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, month, 1, tzinfo=VENUE_TIMEZONE)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=VENUE_TIMEZONE)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def _income(year: int) -> list[int]:
    """The ledger's revenue per venue-local month: one aggregate query per month."""
    out = []
    for month in MONTHS:
        start, end = _month_window(year, month)
        row = await LedgerEntry.select(Sum(LedgerEntry.amount_fen, alias="total")).where(
            (LedgerEntry.at >= start) & (LedgerEntry.at < end) & LedgerEntry.kind.is_in(list(ledger.REVENUE_KINDS))
        )
        out.append(int(row[0]["total"] or 0) if row else 0)
    return out


async def table(year: int) -> list[Row]:
    """Budget and actual per category and month of a year."""
    _check_year(year)
    budget = {c: [0] * 12 for c in CATEGORIES}
    for r in await Budget.select(Budget.category, Budget.month, Budget.amount_fen).where(Budget.year == year):
        if r["category"] in budget:
            budget[r["category"]][r["month"] - 1] = r["amount_fen"]
    actual = {c: [0] * 12 for c in CATEGORIES}
    actual[INCOME] = await _income(year)
    for c in await Cost.select(Cost.category, Cost.day, Cost.amount_fen).where(
        (Cost.day >= dt.date(year, 1, 1)) & (Cost.day <= dt.date(year, 12, 31))
    ):
        actual[c["category"]][c["day"].month - 1] += c["amount_fen"]
    return [Row(c, budget[c], actual[c]) for c in CATEGORIES]


async def costs(year: int, limit: int = 100) -> list[dict]:
    return (
        await Cost.select()
        .where((Cost.day >= dt.date(year, 1, 1)) & (Cost.day <= dt.date(year, 12, 31)))
        .order_by(Cost.id, ascending=False)
        .limit(limit)
    )
