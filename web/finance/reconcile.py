"""The daily reconciliation pages (R8.2 账账相符, issue 12) for the auditor, and the sandbox payment provider's
statement download (its own path, /pay/sandbox/statements/DAY.csv, signed requests only). Domain logic in
db/finance/reconciliation.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.finance import reconciliation as recon
from db.staff.permissions import Permission
from web.auth import PUBLIC, requires
from web.errors import problem_responses
from web.forms import Form, failure, field_text
from web.i18n import gettext
from web.templating import render


async def _page(request: Request, day_text: str, status_code: int = 200, **extra: Any) -> Template:
    try:
        day = recon.parse_day(day_text) if day_text else recon.yesterday()
    except DomainError as exc:
        day, extra = recon.yesterday(), {**failure(exc), **extra}
        status_code = exc.status_code
    view = await recon.day_view(day)
    return render(
        request,
        "finance/reconcile.html",
        partial="finance/_reconcile.html",
        status_code=status_code,
        day=day,
        view=view,
        open_count=sum(1 for e in view["exceptions"] if e["status"] == recon.OPEN),
        days=await recon.recent_days(),
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/reconcile", guards=[requires(Permission.FINANCE_RECONCILE)])
async def reconcile_page(request: Request, day: FromQuery[str] = "") -> Template:
    return await _page(request, day)


@post("/finance/reconcile/{day_text:str}/match", guards=[requires(Permission.FINANCE_RECONCILE)])
async def match(request: Request, day_text: FromPath[str]) -> Template:
    try:
        done = await recon.match_day(request.user.actor, recon.parse_day(day_text))
    except DomainError as exc:
        return await _page(request, day_text, exc.status_code, **failure(exc))
    message = gettext(
        "Matched: {lines} statement lines, {mismatches} mismatches ({new} new).",
        lines=done["lines"],
        mismatches=done["mismatches"],
        new=done["new"],
    )
    return await _page(request, day_text, message=message)


@post("/finance/reconcile/exceptions/{exception_id:int}/resolve", guards=[requires(Permission.FINANCE_RECONCILE)])
async def resolve(request: Request, exception_id: FromPath[int], data: Form) -> Template:
    day_text = field_text(data, "day")
    try:
        await recon.resolve(request.user.actor, exception_id, field_text(data, "note"))
    except DomainError as exc:
        return await _page(request, day_text, exc.status_code, **failure(exc))
    return await _page(request, day_text, message=gettext("Mismatch resolved."))


@post("/finance/reconcile/{day_text:str}/close", guards=[requires(Permission.FINANCE_RECONCILE)])
async def close(request: Request, day_text: FromPath[str]) -> Template:
    try:
        await recon.close_day(request.user.actor, recon.parse_day(day_text))
    except DomainError as exc:
        return await _page(request, day_text, exc.status_code, **failure(exc))
    return await _page(request, day_text, message=gettext("Day closed. Nothing in it can change any more."))


@get(
    "/pay/sandbox/statements/{day_file:str}",
    opt=PUBLIC,
    tags=["payments"],
    responses=problem_responses(404, 409, 422),
)
async def sandbox_statement(request: Request, day_file: FromPath[str]) -> Response:
    """The sandbox provider's daily statement (CSV; cut at 00:00 Asia/Shanghai, ready after the day ended):
    `GET /pay/sandbox/statements/2026-12-01.csv` with X-Sandbox-Signature = HMAC-SHA256 of
    "statement:2026-12-01" under the merchant's sandbox secret."""
    day = recon.parse_day(day_file.removesuffix(".csv"))
    text = await recon.provider_statement(day, request.headers.get("x-sandbox-signature", ""))
    return Response(
        text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sandbox-{day.isoformat()}.csv"'},
    )


ROUTES = [reconcile_page, match, resolve, close, sandbox_statement]
NAV = [(Permission.FINANCE_RECONCILE, "/finance/reconcile", "Reconciliation")]
