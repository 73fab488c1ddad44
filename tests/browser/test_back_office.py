"""The back office in headless Chromium at 1366x768 (issue 12): a report page and the budget page draw their
Chart.js chart above a table, their export links download the file, the alerts page lists its rules and alerts,
none of them scrolls sideways; a seller opens a shift and counts it blind (the expected amounts appear only
after the count; a cash shortfall over the tolerance asks for an explanation)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from db.core.clock import utcnow
from db.finance import budgets
from db.finance.ledger import venue_day
from tests.finance.support import SUPERVISOR, one_window
from tests.reports.support import sales_with_refund

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
CHART_POINTS = "id => { const c = Chart.getChart(document.getElementById(id)); return c ? c.data.datasets.length : 0; }"


async def _download(page, testid: str, path: Path) -> Path:
    """Click the export link and keep the file the browser downloads."""
    async with page.expect_download() as download:
        await page.click(f"[data-testid='{testid}']")
    await (await download.value).save_as(path)
    return path


@pytest.mark.parametrize("viewport", [(1366, 768)], indirect=True)
async def test_reports_budgets_alerts_and_a_blind_shift_close_at_1366(page, sign_in_page, tmp_path):
    await sales_with_refund()  # staff lina (seller), zhangwei (supervisor); window and partner sales, a refund
    await one_window()
    year = venue_day(utcnow()).year
    await budgets.set_budget(SUPERVISOR, year, "printing", {1: 30_000, 12: 30_000})
    await sign_in_page(page, "zhangwei")

    await page.goto("/reports/sales/channel")
    await page.locator("[data-testid='report-table'] tbody tr").first.wait_for()
    await page.wait_for_function(f"({CHART_POINTS})('report-chart') > 0")
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    path = await _download(page, "export-csv", tmp_path / "channel.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "渠道" and len(rows) == 1 + await page.locator("[data-testid='report-table'] tbody tr").count()

    await page.goto(f"/finance/budgets?year={year}")
    await page.locator("[data-testid='variance-table']").wait_for()
    await page.wait_for_function(f"({CHART_POINTS})('budget-chart') > 0")
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    path = await _download(page, "budget-xlsx", tmp_path / "budget.xlsx")
    cells = list(load_workbook(io.BytesIO(path.read_bytes()), read_only=True).active.iter_rows(values_only=True))
    assert cells[1 + 2 * 13][1:3] == (1, 300)  # printing, January: 300 yuan

    await page.goto("/reports/alerts")
    await page.locator("[data-testid='rules'] tr").first.wait_for()
    assert await page.locator("[data-testid='alerts']").count() == 1
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)

    await page.context.clear_cookies()
    await sign_in_page(page, "lina")
    await page.goto("/finance/shift")
    await page.fill("[data-testid='float']", "500")
    await page.click("[data-testid='open']")
    await page.locator("[data-testid='count-form']").wait_for()
    assert await page.locator("[data-testid='variances']").count() == 0  # blind: nothing expected shown yet
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    await page.fill("[data-testid='n10000']", "4")  # 100 yuan short of the float
    await page.fill("[data-testid='card-slip']", "0")
    await page.fill("[data-testid='mobile-slip']", "0")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("[data-testid='submit-count']")
    await page.locator("[data-testid='shift-status'][data-status='review']").wait_for()
    assert await page.locator("[data-testid='variances']").count() == 1  # now the expected amounts are shown
    assert "100" in await page.locator("[data-testid='difference-cash']").inner_text()
    assert await page.locator("[data-testid='explain-form']").count() == 1  # over the tolerance: say why
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
