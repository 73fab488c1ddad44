"""Budgets (R8.3, issue 12): the year's budget by month and category against actuals (table and Chart.js
chart), a warning for a cost over its budget, the budget entry and the costs recorded by staff. Domain logic
in db/finance/budgets.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Template

from db.catalog.pricing import yuan_to_fen
from db.core.clock import utcnow
from db.core.errors import DomainError, InvalidInput
from db.finance import budgets
from db.finance.ledger import venue_day
from db.finance.reconciliation import parse_day
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, go, whole_number
from web.templating import render


def _year(text: str) -> int:
    return whole_number(text, field="year", minimum=2000, maximum=2100) if text else venue_day(utcnow()).year


async def _page(request: Request, year: int, status_code: int = 200, **extra: Any) -> Template:
    rows = await budgets.table(year)
    return render(
        request,
        "finance/budgets.html",
        status_code=status_code,
        year=year,
        rows=rows,
        warnings=[r for r in rows if r.over_year or any(r.over)],
        categories=budgets.CATEGORIES,
        cost_categories=budgets.COSTS,
        costs=await budgets.costs(year),
        today=venue_day(utcnow()),
        **{"form": {}, "error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/budgets", guards=[requires(Permission.FINANCE_BUDGET)])
async def budgets_page(request: Request, year: FromQuery[str] = "") -> Template:
    try:
        return await _page(request, _year(year))
    except DomainError as exc:
        return await _page(request, venue_day(utcnow()).year, exc.status_code, **failure(exc))


@post("/finance/budgets", guards=[requires(Permission.FINANCE_BUDGET)])
async def set_budget(request: Request, data: Form) -> Response | Template:
    year = venue_day(utcnow()).year
    try:
        year = _year(field_text(data, "year"))
        await budgets.set_budget(
            request.user.actor, year, field_text(data, "category"), budgets.parse_months(field_text(data, "months"))
        )
    except DomainError as exc:
        return await _page(request, year, exc.status_code, form=data, **failure(exc))
    return go(request, f"/finance/budgets?year={year}")


def _signed_fen(text: str) -> int:
    """An amount in yuan; a leading minus makes it a correction."""
    text = text.strip()
    if not text:
        raise InvalidInput("Enter the amount in yuan (not 0).", field="amount")
    negative = text.startswith("-")
    fen = yuan_to_fen(text.removeprefix("-"), field="amount")
    return -fen if negative else fen


@post("/finance/costs", guards=[requires(Permission.FINANCE_BUDGET)])
async def record_cost(request: Request, data: Form) -> Response | Template:
    year = venue_day(utcnow()).year
    try:
        day = parse_day(field_text(data, "day"))
        year = day.year
        await budgets.record_cost(
            request.user.actor,
            day,
            field_text(data, "category"),
            _signed_fen(field_text(data, "amount")),
            field_text(data, "note"),
        )
    except DomainError as exc:
        return await _page(request, year, exc.status_code, form=data, **failure(exc))
    return go(request, f"/finance/budgets?year={year}")


ROUTES = [budgets_page, set_budget, record_cost]
NAV = [(Permission.FINANCE_BUDGET, "/finance/budgets", "Budgets")]
