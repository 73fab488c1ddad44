"""Shifts at the window (R8.2, issue 12): the seller's own shift (open with a float, blind count, explanation,
the PDF report) and the supervisor's page (every shift, overdue ones flagged, sign-off of a variance, windows
and the tolerance). Domain logic in db/finance/shifts.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.catalog.pricing import yuan_to_fen
from db.core.clock import utcnow
from db.core.errors import DomainError, InvalidInput, PermissionDenied
from db.finance import ledger, shifts
from db.finance.documents import shift_pdf
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, go
from web.i18n import gettext
from web.templating import render


def _yuan(data: dict[str, Any], name: str) -> int:
    value = field_text(data, name)
    return yuan_to_fen(value, field=name) if value else 0


async def _mine(request: Request, status_code: int = 200, **extra: Any) -> Template:
    user_id = request.user.actor.user_id
    current = await shifts.current_shift(user_id) if user_id is not None else None
    shown = await shifts.get_shift(current["id"]) if current else None
    return render(
        request,
        "finance/shift.html",
        partial="finance/_shift.html",
        status_code=status_code,
        shift=shown,
        variances=shifts.variances(shown) if shown else [],
        windows=await shifts.windows(),
        denominations=shifts.DENOMINATIONS,
        **{"form": {}, "error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/shift", guards=[requires(Permission.FINANCE_SHIFT)])
async def my_shift(request: Request) -> Template:
    return await _mine(request)


@post("/finance/shift/open", guards=[requires(Permission.FINANCE_SHIFT)])
async def open_shift(request: Request, data: Form) -> Template:
    try:
        window_id = form_number(data, "window", minimum=1)
        if not window_id:
            raise InvalidInput("Choose the window you work at.", field="window")
        await shifts.open_shift(request.user.actor, window_id, _yuan(data, "float"))
    except DomainError as exc:
        return await _mine(request, exc.status_code, form=data, **failure(exc))
    return await _mine(request, message=gettext("Shift open. Payments and refunds you take now are in it."))


@post("/finance/shift/{shift_id:int}/count", guards=[requires(Permission.FINANCE_SHIFT)])
async def count(request: Request, shift_id: FromPath[int], data: Form) -> Template:
    try:
        pieces = {value: form_number(data, f"n{value}", maximum=shifts.MAX_PIECES) for value in shifts.DENOMINATIONS}
        shift = await shifts.count_shift(
            request.user.actor, shift_id, pieces, _yuan(data, "card_slip"), _yuan(data, "mobile_slip")
        )
    except DomainError as exc:
        return await _mine(request, exc.status_code, form=data, **failure(exc))
    if shift["status"] == shifts.CLOSED:
        return await _mine(request, message=gettext("Counted and closed: every method is within the tolerance."))
    return await _mine(request, message=gettext("Counted. The variance is over the tolerance: explain it below."))


@post("/finance/shift/{shift_id:int}/explain", guards=[requires(Permission.FINANCE_SHIFT)])
async def explain(request: Request, shift_id: FromPath[int], data: Form) -> Template:
    try:
        await shifts.explain(request.user.actor, shift_id, field_text(data, "explanation"))
    except DomainError as exc:
        return await _mine(request, exc.status_code, form=data, **failure(exc))
    return await _mine(request, message=gettext("Explanation saved. A supervisor signs the shift off."))


@get("/finance/shifts/{shift_id:int}/report.pdf", guards=[requires(Permission.FINANCE_SHIFT)])
async def report(request: Request, shift_id: FromPath[int]) -> Response:
    """The shift report in Chinese: the seller's own shifts; every shift for a supervisor."""
    shift = await shifts.get_shift(shift_id)
    if shift["seller"] != request.user.actor.user_id and not request.user.can(Permission.FINANCE_SIGNOFF):
        raise PermissionDenied("This is another seller's shift.")
    return Response(
        await shift_pdf(shift),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="shift-{shift_id}.pdf"'},
    )


async def _overview(request: Request, status_code: int = 200, **extra: Any) -> Template:
    rows = await shifts.shifts()
    return render(
        request,
        "finance/shifts.html",
        status_code=status_code,
        shifts=rows,
        cut=shifts.morning_cut(utcnow()),
        windows=await shifts.windows(active_only=False),
        policy=await ledger.policy(),
        **{"form": {}, "error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/shifts", guards=[requires(Permission.FINANCE_SIGNOFF)])
async def overview(request: Request) -> Template:
    return await _overview(request)


@post("/finance/shifts/{shift_id:int}/sign-off", guards=[requires(Permission.FINANCE_SIGNOFF)])
async def sign_off(request: Request, shift_id: FromPath[int], data: Form) -> Template:
    try:
        await shifts.sign_off(request.user.actor, shift_id, field_text(data, "note"))
    except DomainError as exc:
        return await _overview(request, exc.status_code, **failure(exc))
    return await _overview(request, message=gettext("Shift signed off and closed."))


@post("/finance/windows", guards=[requires(Permission.FINANCE_SIGNOFF)])
async def add_window(request: Request, data: Form) -> Response | Template:
    try:
        await shifts.create_window(
            request.user.actor,
            field_text(data, "name"),
            field_text(data, "place"),
            field_text(data, "kind") or "window",
        )
    except DomainError as exc:
        return await _overview(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/finance/shifts")


@post("/finance/shift-policy", guards=[requires(Permission.FINANCE_SIGNOFF)])
async def set_policy(request: Request, data: Form) -> Response | Template:
    try:
        await shifts.set_policy(request.user.actor, _yuan(data, "tolerance"), data.get("shift_required") == "on")
    except DomainError as exc:
        return await _overview(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/finance/shifts")


ROUTES = [my_shift, open_shift, count, explain, report, overview, sign_off, add_window, set_policy]
NAV = [
    (Permission.FINANCE_SHIFT, "/finance/shift", "My shift"),
    (Permission.FINANCE_SIGNOFF, "/finance/shifts", "Shifts"),
]
