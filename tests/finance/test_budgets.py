"""Budgets (issue 12, R8.3): a yearly budget by month and category against actuals from the ledger and from
costs recorded by staff, the variance, a warning when a cost passes its budget; a month given twice (or any bad
line) refuses the whole entry with a clear message and writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from db.core.actor import Actor
from db.core.errors import InvalidInput
from db.finance import budgets
from db.finance.ledger import venue_day
from db.finance.tables import Budget, Cost
from db.staff.permissions import Role
from tests.finance.support import SELLER, sales_catalog, staff, window_sale
from tests.helpers import post_form
from tests.sales.ui_support import staff_client

AUDITOR = Actor(None, "王芳", "auditor")
TODAY = venue_day(dt.datetime.now(dt.UTC))


async def test_actuals_from_the_ledger_and_costs_variance_and_a_warning_when_a_cost_passes_its_budget():
    ids = await sales_catalog()
    await staff()
    await window_sale(ids, SELLER, "card", 3, reference="000731")  # 150 yuan of ticket income this month
    month = TODAY.month
    await budgets.set_budget(AUDITOR, TODAY.year, "ticket_income", {month: 10000, 12 if month != 12 else 1: 5})
    await budgets.set_budget(AUDITOR, TODAY.year, "printing", budgets.parse_months(f"{month},300"))
    await budgets.record_cost(AUDITOR, TODAY, "printing", 25000, "门票印制 5000 张")
    rows = {r.category: r for r in await budgets.table(TODAY.year)}
    income, printing = rows["ticket_income"], rows["printing"]
    assert income.actual[month - 1] == 15000 and income.variance[month - 1] == 5000
    assert not income.over_year and not any(income.over)  # income over budget is no warning
    assert printing.actual[month - 1] == 25000 and not printing.over_year
    await budgets.record_cost(AUDITOR, TODAY, "printing", 10000, "加印")
    printing = {r.category: r for r in await budgets.table(TODAY.year)}["printing"]
    assert printing.over[month - 1] and printing.over_year and printing.variance[month - 1] == 5000
    await budgets.record_cost(AUDITOR, TODAY, "printing", -10000, "冲销：加印重复登记")  # a correction
    printing = {r.category: r for r in await budgets.table(TODAY.year)}["printing"]
    assert not printing.over_year and await Cost.count() == 3


def test_budget_lines_a_month_twice_or_a_bad_line_is_refused_with_the_line():
    assert budgets.parse_months("1,500000\n\n2， 450000.50\n3\t1") == {1: 50000000, 2: 45000050, 3: 100}
    with pytest.raises(InvalidInput) as twice:
        budgets.parse_months("1,100\n2,200\n1,300")
    assert twice.value.params == {"month": 1, "first": 1, "line": 3}
    for bad in ("13,100", "a,100", "1,abc", "1,-5", "1;100", ""):
        with pytest.raises(InvalidInput):
            budgets.parse_months(bad)


async def test_the_budget_page_shows_the_table_and_chart_and_refuses_a_month_twice():
    await sales_catalog()
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        page = await client.get("/finance/budgets")
        assert page.status_code == 200 and 'id="budget-chart"' in page.text and "chart.umd.min.js" in page.text
        twice = await post_form(
            client, "/finance/budgets", {"year": str(TODAY.year), "category": "printing", "months": "1,100\n1,200"}
        )
        assert twice.status_code == 422 and "1" in twice.text and 'aria-invalid="true"' in twice.text
        assert await Budget.count() == 0
        saved = await post_form(
            client, "/finance/budgets", {"year": str(TODAY.year), "category": "printing", "months": "1,100\n2,200"}
        )
        assert saved.status_code == 303 and await Budget.count() == 2
        cost = await post_form(
            client,
            "/finance/costs",
            {"day": TODAY.isoformat(), "category": "printing", "amount": "99999", "note": "票纸"},
        )
        assert cost.status_code == 303
        warned = await client.get("/finance/budgets")  # 999.99 yuan spent against 3 yuan budgeted
        assert 'data-testid="over-budget-printing"' in warned.text and 'data-testid="budget-xlsx"' in warned.text
        # The variance table as files: a row per category and month plus the year, the same numbers.
        sheet = await client.get(f"/finance/budgets?year={TODAY.year}&format=csv")
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        printing = rows[1 + 2 * 13 : 1 + 3 * 13]  # the third category, 12 months and the year
        assert len(rows) == 1 + 4 * 13 and printing[0][1:3] == ["1", "100.00"] and printing[12][2] == "300.00"
        assert printing[TODAY.month - 1][3] == "99999.00" and printing[TODAY.month - 1][5] != ""
        book = await client.get(f"/finance/budgets?year={TODAY.year}&format=xlsx")
        assert book.status_code == 200 and book.content[:2] == b"PK"
        cells = list(load_workbook(io.BytesIO(book.content), read_only=True).active.iter_rows(values_only=True))
        assert cells[1 + 2 * 13][1:3] == (1, 100) and cells[1 + 2 * 13 + TODAY.month - 1][3] == 99999
        assert (await client.get(f"/finance/budgets?year={TODAY.year}&format=pdf")).status_code == 422
        letters = await post_form(
            client, "/finance/costs", {"day": TODAY.isoformat(), "category": "printing", "amount": "十元", "note": "x"}
        )
        assert letters.status_code == 422 and await Cost.count() == 1
        bad_year = await client.get("/finance/budgets?year=19999")
        assert bad_year.status_code == 422
    async with staff_client(Role.SELLER, "seller1") as seller:
        assert (await seller.get("/finance/budgets")).status_code == 403
