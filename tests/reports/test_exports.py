"""Exports (R6.2, issue 12): every report's page, CSV and XLSX give the same numbers; a large export is
prepared in the background with its progress shown, then downloaded by its maker only; customer data is
shown masked, only to the roles that may see it, and each export of it is in the audit log."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re

import openpyxl

from db.audit.tables import AuditEntry
from db.reports import exports
from db.reports.catalog import REPORTS
from tests.reports.support import sales_with_refund, signed_in


def page_table(text: str) -> list[list[str]]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def normal(value) -> str:
    """A cell as a plain number or text: '¥1,150.00', '1150.00' and 1150.0 are all '1150.00'."""
    text = str(value).replace("¥", "").replace(",", "").rstrip("%")
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:.2f}"


async def test_page_csv_and_xlsx_of_every_report_agree():
    await sales_with_refund()
    async with signed_in("supervisor") as client:
        checked = 0
        for key in REPORTS:
            query = "since=2026-01-01&until=2027-06-30"
            page = await client.get(f"/reports/{key}?{query}")
            assert page.status_code == 200, key
            shown = page_table(page.text) if "<tbody>" in page.text else []
            assert f"/reports/{key}?" in page.text and "format=csv" in page.text and "format=xlsx" in page.text
            got_csv = await client.get(f"/reports/{key}?{query}&format=csv")
            assert got_csv.status_code == 200 and got_csv.headers["content-type"].startswith("text/csv")
            lines = list(csv.reader(io.StringIO(got_csv.content.decode("utf-8-sig"))))
            got_xlsx = await client.get(f"/reports/{key}?{query}&format=xlsx")
            assert got_xlsx.status_code == 200, key
            sheet = openpyxl.load_workbook(io.BytesIO(got_xlsx.content), read_only=True).active
            cells = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
            assert lines[0] == [str(v) for v in cells[0]], key  # the same column titles
            assert [[normal(v) for v in r] for r in lines[1:]] == [[normal(v) for v in r] for r in cells[1:]], key
            assert [[normal(v) for v in r] for r in shown] == [[normal(v) for v in r] for r in lines[1:]], key
            checked += bool(shown)
        assert checked >= 12  # every report but those with nothing in them (no admissions yet)


async def test_a_large_export_shows_progress_and_then_downloads(monkeypatch):
    await sales_with_refund()
    monkeypatch.setattr(exports, "DIRECT_ROWS", 2)  # the 7 ticket lines are "large"
    async with signed_in("supervisor") as client:
        started = await client.get("/reports/sales/lines?format=xlsx", follow_redirects=False)
        assert started.status_code == 303
        url = started.headers["location"]
        assert url.startswith("/reports/exports/")
        page = await client.get(url)
        assert 'data-testid="export"' in page.text
        for _ in range(100):
            progress = await client.get(url, headers={"hx-request": "true"})
            if 'data-status="done"' in progress.text:
                break
            assert 'data-status="running"' in progress.text and "<progress" in progress.text
            await asyncio.sleep(0.1)
        assert 'data-testid="export-download"' in progress.text
        download = await client.get(f"{url}/file")
        assert download.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True).active
        assert len(list(sheet.iter_rows(values_only=True))) == 1 + 7
        async with signed_in("supervisor", "another_supervisor") as other:
            assert (await other.get(url)).status_code == 404
            assert (await other.get(f"{url}/file")).status_code == 404


async def test_customer_reports_only_for_roles_with_the_permission_and_exports_are_audited():
    await sales_with_refund()
    async with signed_in("auditor") as auditor:
        assert (await auditor.get("/reports/sales/day")).status_code == 200
        assert (await auditor.get("/reports/customers/top")).status_code == 403
        assert (await auditor.get("/reports/customers/top?format=csv")).status_code == 403
    async with signed_in("seller") as seller:
        assert (await seller.get("/reports/sales/day")).status_code == 403
    async with signed_in("supervisor") as supervisor:
        page = await supervisor.get("/reports/customers/top")
        assert "138****8000" in page.text and "13800138000" not in page.text
        assert await AuditEntry.count().where(AuditEntry.action == "report.export") == 0
        got = await supervisor.get("/reports/customers/top?format=csv")
        assert "138****8000" in got.text and "13800138000" not in got.text
        await supervisor.get("/reports/sales/day?format=csv")  # no customer data: not recorded
    entries = await AuditEntry.select().where(AuditEntry.action == "report.export")
    assert len(entries) == 1
    assert entries[0]["object_id"] == "customers/top" and entries[0]["actor_role"] == "supervisor"
    after = json.loads(entries[0]["after"]) if isinstance(entries[0]["after"], str) else entries[0]["after"]
    assert after["format"] == "csv" and after["rows"] == 1 and after["customer_data"]
