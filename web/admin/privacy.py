"""Customer data pages (R6.3, issue 14): the reveal endpoint every staff page uses (a masked value with a
purpose field; the full value after a logged reveal), the supervisor's reveal log with the retention setting,
and data-use requests (ask, approve for a time, download under an approval)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.catalog.tables import EventSession
from db.core.errors import DomainError
from db.privacy import data_use, retention
from db.privacy.masking import masked
from db.privacy.reveals import reveal, reveal_log, staff_who_revealed
from db.sales.tables import Order
from db.staff.permissions import Permission
from web.auth import requires
from web.errors import explain
from web.forms import MAX_ID, field_text, form_number
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]


@post("/privacy/reveal", guards=[requires(Permission.CUSTOMER_DATA_REVEAL)])
async def reveal_field(request: Request, data: Form) -> Template:
    code, field = field_text(data, "order"), field_text(data, "field")
    try:
        shown = await reveal(request.user.actor, code, field, field_text(data, "purpose"))
    except DomainError as exc:
        row = await Order.select(Order.buyer_phone, Order.buyer_email).where(Order.code == code.upper()).first()
        value = (row or {}).get("buyer_phone" if field == "phone" else "buyer_email", "")
        return render(
            request,
            "privacy/_reveal.html",
            status_code=200,
            code=code.upper(),
            field=field,
            masked_value=masked(field, value),
            revealed=None,
            error=explain(exc),
        )
    return render(
        request,
        "privacy/_reveal.html",
        code=shown.order_code,
        field=field,
        masked_value="",
        revealed=shown.value,
        error=None,
    )


@get("/admin/privacy", guards=[requires(Permission.PRIVACY_OVERSEE)], name="admin-privacy")
async def privacy_page(request: Request, staff: FromQuery[str] = "") -> Template:
    return render(
        request,
        "admin/privacy.html",
        partial="admin/_reveal_log.html",
        reveals=await reveal_log(staff=staff.strip() or None),
        staff=staff.strip(),
        staff_names=await staff_who_revealed(),
        keep_days=await retention.keep_days(),
        error=None,
    )


@post("/admin/privacy/retention", guards=[requires(Permission.PRIVACY_OVERSEE)])
async def set_retention(request: Request, data: Form) -> Response:
    try:
        days = form_number(data, "keep_days", maximum=retention.MAX_KEEP_DAYS)
        await retention.set_keep_days(request.user.actor, days)
    except DomainError as exc:
        return render(
            request,
            "admin/privacy.html",
            status_code=exc.status_code,
            reveals=await reveal_log(),
            staff="",
            staff_names=await staff_who_revealed(),
            keep_days=await retention.keep_days(),
            error=explain(exc),
        )
    return Redirect("/admin/privacy", status_code=303)


async def _sessions() -> list[dict]:
    rows = (
        await EventSession.select(
            EventSession.id, EventSession.starts_at, EventSession.event.name, EventSession.venue.timezone
        )
        .order_by(EventSession.starts_at, ascending=False)
        .limit(200)
    )
    return [
        {"id": r["id"], "starts_at": r["starts_at"], "name": r["event.name"], "timezone": r["venue.timezone"]}
        for r in rows
    ]


async def _requests_page(request: Request, status_code: int = 200, error: str | None = None, **form: Any) -> Template:
    return render(
        request,
        "admin/data_use.html",
        status_code=status_code,
        requests=await data_use.requests(request.user.actor),
        exports=data_use.EXPORTS,
        sessions=await _sessions(),
        error=error,
        form=form,
    )


@get("/admin/privacy/requests", guards=[requires(Permission.DATA_USE_REQUEST)], name="admin-data-use")
async def requests_page(request: Request) -> Template:
    return await _requests_page(request)


@post("/admin/privacy/requests", guards=[requires(Permission.DATA_USE_REQUEST)])
async def new_request(request: Request, data: Form) -> Response:
    export, purpose = field_text(data, "export"), field_text(data, "purpose")
    try:
        session_id = (
            form_number(data, "session_id", minimum=1, maximum=MAX_ID) if field_text(data, "session_id") else None
        )
        await data_use.request_use(request.user.actor, export, session_id, purpose)
    except DomainError as exc:
        return await _requests_page(request, exc.status_code, explain(exc), export=export, purpose=purpose)
    return Redirect("/admin/privacy/requests", status_code=303)


@post("/admin/privacy/requests/{request_id:int}/decide", guards=[requires(Permission.PRIVACY_OVERSEE)])
async def decide_request(request: Request, request_id: FromPath[int], data: Form) -> Response:
    try:
        approve = field_text(data, "decision") == "approve"
        days = form_number(data, "days", 7, minimum=1, maximum=data_use.MAX_DAYS) if approve else 0
        await data_use.decide(request.user.actor, request_id, approve, days, field_text(data, "note"))
    except DomainError as exc:
        return await _requests_page(request, exc.status_code, explain(exc))
    return Redirect("/admin/privacy/requests", status_code=303)


@get("/admin/privacy/requests/{request_id:int}/download", guards=[requires(Permission.DATA_USE_REQUEST)])
async def download(request: Request, request_id: FromPath[int]) -> Response:
    name, text = await data_use.download(request.user.actor, request_id)
    return Response(
        content="\ufeff" + text,  # a BOM so that spreadsheet programs read the Chinese names as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


ROUTES = [reveal_field, privacy_page, set_retention, requests_page, new_request, decide_request, download]
NAV = [
    (Permission.PRIVACY_OVERSEE, "/admin/privacy", "Customer data log"),
    (Permission.DATA_USE_REQUEST, "/admin/privacy/requests", "Data-use requests"),
]
