"""Budgets (R8.3, issue 12): the year's budget by month and category against actuals (table and Chart.js
chart), a warning for a cost over its budget, the budget entry and the costs recorded by staff. Domain logic
in db/finance/budgets.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path
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
from db.reports import xlsx
from db.reports.exports import FORMATS
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.downloads import MEDIA, written_file
from web.forms import Form, failure, field_text, go, whole_number
from web.i18n import gettext, translated_labels
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


EXPORT_HEADER = ("Category", "Month", "Budget", "Actual", "Variance", "Over budget")


def _export_rows(rows: list[budgets.Row]) -> list[list]:
    """The variance table as file rows: per category each month and the year, amounts in yuan."""
    names, over, year = translated_labels(labels.BUDGET_CATEGORY), gettext("Over budget"), gettext("Year")
    out = []
    for r in rows:
        for m in budgets.MONTHS:
            money = [r.budget[m - 1] / 100, r.actual[m - 1] / 100, r.variance[m - 1] / 100]
            out.append([names[r.category], m, *money, over if r.over[m - 1] else ""])
        total = [r.budget_total / 100, r.actual_total / 100, (r.actual_total - r.budget_total) / 100]
        out.append([names[r.category], year, *total, over if r.over_year else ""])
    return out


async def _export(year: int, fmt: str) -> Response:
    header, rows = [gettext(h) for h in EXPORT_HEADER], _export_rows(await budgets.table(year))
    name = f"budget-{year}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[f"{v:.2f}" if isinstance(v, float) else v for v in row] for row in rows])
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type=MEDIA["csv"],
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
    styles = [None, None, xlsx.MONEY, xlsx.MONEY, xlsx.MONEY, None]

    async def write(path: Path) -> None:
        book = xlsx.XlsxWriter(path, gettext("Budget {year}", year=year), header, styles)
        book.rows(rows)
        book.close()

    return await written_file(name, write)


@get("/finance/budgets", guards=[requires(Permission.FINANCE_BUDGET)])
async def budgets_page(request: Request, year: FromQuery[str] = "", format: FromQuery[str] = "") -> Response:
    """The budget page; `?format=csv` or `?format=xlsx` downloads its variance table."""
    try:
        if format not in ("", *FORMATS):
            raise InvalidInput("Choose the format csv or xlsx.", field="format")
        if format:
            return await _export(_year(year), format)
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
