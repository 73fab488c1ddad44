"""The staff pages of session changes: a session's change form and dry run (/changes/sessions/ID), the list
(/changes), and one change's page (/changes/ID): its figures (table and chart), approval, the job's progress
bar (HTMX polling every second while it runs) and the report of done and failed orders with a retry; the
report as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template
from openpyxl import Workbook

from db.catalog.queries import session as session_detail
from db.catalog.tables import Venue
from db.core.errors import DomainError
from db.sessionchange import operations as changes
from db.staff.permissions import Permission
from web.auth import requires
from web.catalog.forms import local_to_utc
from web.forms import Form, failure, field_text, form_number, go
from web.templating import render

REPORT_COLUMNS = ("order", "channel", "status", "refund_fen", "failure", "mail", "choice", "done_at")


def _when(data: dict[str, Any], name: str, timezone: str):
    text = field_text(data, name)
    return local_to_utc(text, timezone, name) if text else None


async def _session_page(request: Request, session_id: int, status_code: int = 200, **extra: Any) -> Template:
    session = await session_detail(session_id)
    return render(
        request,
        "sessionchange/session.html",
        status_code=status_code,
        session=session,
        dry=await changes.figures(session_id),
        history=await changes.notices(session_id),
        venues=await Venue.select(Venue.id, Venue.name).order_by(Venue.name),
        **{"error": None, "error_field": None, "form": {}, **extra},
    )


@get("/changes/sessions/{session_id:int}", guards=[requires(Permission.SESSION_CHANGE)])
async def session_page(request: Request, session_id: FromPath[int]) -> Template:
    return await _session_page(request, session_id)


@post("/changes/sessions/{session_id:int}/change", guards=[requires(Permission.SESSION_CHANGE)])
async def change(request: Request, session_id: FromPath[int], data: Form) -> Response:
    try:
        session = await session_detail(session_id)
        zone = session["timezone"]
        venue = form_number(data, "venue_id") or None
        done = await changes.change_session(
            request.user.actor,
            session_id,
            reason=field_text(data, "reason"),
            starts_at=_when(data, "starts_at", zone),
            venue_id=venue,
            choice_until=_when(data, "choice_until", zone),
        )
    except DomainError as exc:
        return await _session_page(request, session_id, exc.status_code, form=data, **failure(exc))
    return go(request, f"/changes/{done.id}")


@post("/changes/sessions/{session_id:int}/propose", guards=[requires(Permission.SESSION_BULK)])
async def propose(request: Request, session_id: FromPath[int], data: Form) -> Response:
    try:
        session = await session_detail(session_id)
        zone = session["timezone"]
        change_id = await changes.propose(
            request.user.actor,
            session_id,
            field_text(data, "kind"),
            reason=field_text(data, "reason"),
            starts_at=_when(data, "starts_at", zone),
            choice_until=_when(data, "choice_until", zone),
        )
    except DomainError as exc:
        return await _session_page(request, session_id, exc.status_code, form=data, **failure(exc))
    return go(request, f"/changes/{change_id}")


@get("/changes", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def list_page(request: Request) -> Template:
    return render(request, "sessionchange/list.html", changes=await changes.changes())


async def _change_page(request: Request, change_id: int, status_code: int = 200, **extra: Any) -> Template:
    state = await changes.progress(change_id)
    return render(
        request,
        "sessionchange/change.html",
        partial="sessionchange/_progress.html",
        status_code=status_code,
        state=state,
        change=state["change"],
        failed=await changes.report(change_id, changes.FAILED, limit=500),
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/changes/{change_id:int}", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def change_page(request: Request, change_id: FromPath[int]) -> Template:
    return await _change_page(request, change_id)


@get("/changes/{change_id:int}/progress", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def progress_partial(request: Request, change_id: FromPath[int]) -> Template:
    state = await changes.progress(change_id)
    return render(
        request,
        "sessionchange/_progress.html",
        state=state,
        change=state["change"],
        failed=await changes.report(change_id, changes.FAILED, limit=500),
    )


@post("/changes/{change_id:int}/approve", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def approve(request: Request, change_id: FromPath[int]) -> Response:
    try:
        await changes.approve(request.user.actor, change_id)
    except DomainError as exc:
        return await _change_page(request, change_id, exc.status_code, **failure(exc))
    return go(request, f"/changes/{change_id}")


@post("/changes/{change_id:int}/reject", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def reject(request: Request, change_id: FromPath[int]) -> Response:
    try:
        await changes.reject(request.user.actor, change_id)
    except DomainError as exc:
        return await _change_page(request, change_id, exc.status_code, **failure(exc))
    return go(request, f"/changes/{change_id}")


@post("/changes/{change_id:int}/retry", guards=[requires(Permission.SESSION_BULK)])
async def retry(request: Request, change_id: FromPath[int]) -> Response:
    try:
        await changes.retry_failed(request.user.actor, change_id)
    except DomainError as exc:
        return await _change_page(request, change_id, exc.status_code, **failure(exc))
    return go(request, f"/changes/{change_id}")


def _rows(report: list[dict]) -> list[list]:
    return [
        [
            r["order.code"],
            r["order.channel"],
            r["status"],
            r["refund_fen"],
            r["failure"],
            r["mail_status"],
            r["choice"],
            r["done_at"].isoformat() if r["done_at"] else "",
        ]
        for r in report
    ]


@get("/changes/{change_id:int}/report.csv", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def report_csv(change_id: FromPath[int]) -> Response:
    await changes.get_change(change_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(_rows(await changes.report(change_id)))
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-change-{change_id}.csv"'},
    )


@get("/changes/{change_id:int}/report.xlsx", guards=[requires(Permission.SESSION_BULK_APPROVE)])
async def report_xlsx(change_id: FromPath[int]) -> Response:
    await changes.get_change(change_id)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("report")
    sheet.append(list(REPORT_COLUMNS))
    for row in _rows(await changes.report(change_id)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="session-change-{change_id}.xlsx"'},
    )


ROUTES = [
    session_page,
    change,
    propose,
    list_page,
    change_page,
    progress_partial,
    approve,
    reject,
    retry,
    report_csv,
    report_xlsx,
]
