"""Stock-taking (issue 13, R4.1): count a location by range and by keyboard-wedge scans, compare with the
ledger, list every variance, explain each, sign off; the report as PDF (CJK font) and XLSX; a serial that was
never received is refused with a clear message and nothing counted."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.inventory import paper, stocktake
from db.inventory.tables import CountedSerial, StockCount, Variance
from tests.inventory.paper_support import SELLER, SUPERVISOR, staff

CAT = "通用票纸"


async def _store_with_stock() -> int:
    store = await paper.add_location(SUPERVISOR, "一号库房", "store")
    await paper.receive(SUPERVISOR, CAT, 1, 100, store)
    await paper.receive(SUPERVISOR, "贵宾票纸", 1, 10, store)
    window = await paper.add_location(SUPERVISOR, "1号窗口", "window")
    await paper.issue(SUPERVISOR, CAT, 91, 100, store, window)  # 1-90 stay in the store
    return store


async def test_a_count_lists_every_variance_and_is_signed_off_with_its_report():
    await staff()
    store = await _store_with_stock()
    count = await stocktake.start(SUPERVISOR, store, "monthly")
    assert await stocktake.count_range(SUPERVISOR, count, CAT, 1, 40) == 40
    assert await stocktake.count_range(SUPERVISOR, count, CAT, 31, 50) == 10  # overlap counted once
    # Scans as the keyboard-wedge scanner types them: with and without the category; 55 twice.
    for text in ("通用票纸:52", "53", "55", "55", "通用票纸:95"):
        await stocktake.scan(SUPERVISOR, count, text, category=CAT)
    await stocktake.count_range(SUPERVISOR, count, "贵宾票纸", 1, 10)
    assert await stocktake.close(SUPERVISOR, count) > 0
    variances = await Variance.select().where(Variance.stock_count == count).order_by(Variance.id)
    found = {(v["category"], v["kind"], v["first_serial"], v["last_serial"]) for v in variances}
    assert found == {
        (CAT, "missing", 51, 51),
        (CAT, "missing", 54, 54),
        (CAT, "missing", 56, 90),
        (CAT, "extra", 95, 95),  # at the window by the ledger, found in the store
    }
    with pytest.raises(Conflict, match="Explain every variance"):
        await stocktake.sign(SUPERVISOR, count)
    with pytest.raises(Conflict):  # closed: no more counting
        await stocktake.scan(SUPERVISOR, count, "60", category=CAT)
    for v in variances:
        await stocktake.explain(SUPERVISOR, v["id"], "56-90 已装箱送二号库房，调拨单 DB-1203")
    with pytest.raises(PermissionDenied):
        await stocktake.sign(SELLER, count)
    await stocktake.sign(SUPERVISOR, count, "月度盘点")
    assert (await StockCount.select(StockCount.status).where(StockCount.id == count).first())["status"] == "signed"
    report = await stocktake.report(count)
    assert {(line["category"], line["expected"], line["counted"]) for line in report.lines} == {
        (CAT, 90, 54),
        ("贵宾票纸", 10, 10),
    }
    pdf = stocktake.report_pdf(report)
    assert pdf.startswith(b"%PDF") and b"WenQuanYi" in pdf  # the CJK font is embedded
    sheet = load_workbook(io.BytesIO(stocktake.report_xlsx(report))).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "一号库房" in cells and "56-90" in cells and "56-90 已装箱送二号库房，调拨单 DB-1203" in cells


async def test_a_serial_never_received_is_refused_with_nothing_counted():
    await staff()
    store = await _store_with_stock()
    count = await stocktake.start(SUPERVISOR, store, "on_demand")
    with pytest.raises(InvalidInput, match="never received") as refused:
        await stocktake.count_range(SUPERVISOR, count, CAT, 95, 105)
    assert refused.value.params["serial"] == "101-105"
    with pytest.raises(InvalidInput, match="never received"):
        await stocktake.scan(SUPERVISOR, count, "贵宾票纸:11")
    with pytest.raises(InvalidInput, match="not a serial barcode"):
        await stocktake.scan(SUPERVISOR, count, "https://example.cn/x", category=CAT)
    assert await CountedSerial.count() == 0


async def test_one_count_at_a_time_per_location_and_only_the_inventory_duty():
    await staff()
    store = await _store_with_stock()
    await stocktake.start(SUPERVISOR, store, "quarterly")
    with pytest.raises(Conflict, match="already being counted"):
        await stocktake.start(SUPERVISOR, store, "monthly")
    with pytest.raises(PermissionDenied):
        await stocktake.start(SELLER, store, "monthly")
