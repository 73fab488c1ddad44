"""Stock-taking pages (issue 13, R4.1): start a count of a location, count ranges or scan serial barcodes with
the keyboard-wedge scanner (a field that takes Enter-terminated scans), close it against the ledger, explain
each variance, sign off (supervisor), and download the report as PDF or XLSX."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.inventory import paper, stocktake
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, go
from web.inventory.paper import SERIAL
from web.templating import render

GUARD = [requires(Permission.INVENTORY_PAPER)]


async def _list_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "inventory/stocktakes.html",
        status_code=status_code,
        counts=await stocktake.history(),
        locations=await paper.locations(),
        periods=stocktake.PERIODS,
        **{"error": None, "error_field": None, **extra},
    )


@get("/inventory/stocktakes", guards=GUARD, name="inventory-stocktakes")
async def stocktakes_page(request: Request) -> Template:
    return await _list_page(request)


@post("/inventory/stocktakes", guards=GUARD)
async def start_count(request: Request, data: Form) -> Response:
    try:
        count_id = await stocktake.start(
            request.user.actor, form_number(data, "location", minimum=1), field_text(data, "period")
        )
    except DomainError as exc:
        return await _list_page(request, exc.status_code, **failure(exc))
    return go(request, f"/inventory/stocktakes/{count_id}")


async def _count_page(request: Request, count_id: int, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "inventory/stocktake.html",
        partial="inventory/_count_status.html",
        status_code=status_code,
        report=await stocktake.report(count_id),
        **{"error": None, "error_field": None, "last_scan": None, "form": {}, **extra},
    )


@get("/inventory/stocktakes/{count_id:int}", guards=GUARD)
async def count_page(request: Request, count_id: FromPath[int]) -> Template:
    return await _count_page(request, count_id)


@post("/inventory/stocktakes/{count_id:int}/range", guards=GUARD)
async def count_range(request: Request, count_id: FromPath[int], data: Form) -> Template:
    try:
        first = form_number(data, "first", **SERIAL)
        last = form_number(data, "last", first, **SERIAL)
        added = await stocktake.count_range(request.user.actor, count_id, field_text(data, "category"), first, last)
    except DomainError as exc:
        return await _count_page(request, count_id, exc.status_code, form=data, **failure(exc))
    return await _count_page(request, count_id, form=data, added=added)


@post("/inventory/stocktakes/{count_id:int}/scan", guards=GUARD)
async def scan(request: Request, count_id: FromPath[int], data: Form) -> Template:
    """One keyboard-wedge scan (htmx swaps the count's status; the field clears for the next scan)."""
    try:
        category, serial, new = await stocktake.scan(
            request.user.actor, count_id, field_text(data, "scan"), field_text(data, "category")
        )
    except DomainError as exc:
        return await _count_page(request, count_id, exc.status_code, form=data, **failure(exc))
    return await _count_page(
        request, count_id, form=data, last_scan={"category": category, "serial": serial, "new": new}
    )


@post("/inventory/stocktakes/{count_id:int}/close", guards=GUARD)
async def close_count(request: Request, count_id: FromPath[int]) -> Response:
    try:
        await stocktake.close(request.user.actor, count_id)
    except DomainError as exc:
        return await _count_page(request, count_id, exc.status_code, **failure(exc))
    return go(request, f"/inventory/stocktakes/{count_id}")


@post("/inventory/stocktakes/{count_id:int}/variances/{variance_id:int}", guards=GUARD)
async def explain(request: Request, count_id: FromPath[int], variance_id: FromPath[int], data: Form) -> Response:
    try:
        await stocktake.explain(request.user.actor, variance_id, field_text(data, "explanation"))
    except DomainError as exc:
        return await _count_page(request, count_id, exc.status_code, **failure(exc))
    return go(request, f"/inventory/stocktakes/{count_id}")


@post("/inventory/stocktakes/{count_id:int}/sign", guards=[requires(Permission.STOCKTAKE_SIGN)])
async def sign(request: Request, count_id: FromPath[int], data: Form) -> Response:
    try:
        await stocktake.sign(request.user.actor, count_id, field_text(data, "note"))
    except DomainError as exc:
        return await _count_page(request, count_id, exc.status_code, **failure(exc))
    return go(request, f"/inventory/stocktakes/{count_id}")


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@get("/inventory/stocktakes/{count_id:int}/report.pdf", guards=GUARD)
async def report_pdf(count_id: FromPath[int]) -> Response:
    report = await stocktake.report(count_id)
    return _download(stocktake.report_pdf(report), "application/pdf", f"stocktake-{count_id}.pdf")


@get("/inventory/stocktakes/{count_id:int}/report.xlsx", guards=GUARD)
async def report_xlsx(count_id: FromPath[int]) -> Response:
    report = await stocktake.report(count_id)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(stocktake.report_xlsx(report), xlsx, f"stocktake-{count_id}.xlsx")


ROUTES = [
    stocktakes_page,
    start_count,
    count_page,
    count_range,
    scan,
    close_count,
    explain,
    sign,
    report_pdf,
    report_xlsx,
]
NAV = [(Permission.INVENTORY_PAPER, "/inventory/stocktakes", "Stock-taking")]
