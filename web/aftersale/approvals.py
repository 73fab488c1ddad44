"""Refund approvals and the manual queue (R5.3): refunds above the policy's threshold wait for a supervisor
(REFUND_APPROVE; never the one who asked), who approves or declines them with a reason (the tickets are then
valid again); approved window refunds and failed provider refunds are paid out
by hand at the window with the reference of what was done (SALES_REFUND)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from db.core.errors import DomainError
from db.sales.aftersale.notify import send_refund_email
from db.sales.aftersale.refunds import (
    APPROVED,
    FAILED,
    REQUESTED,
    approve_refund,
    decline_refund,
    pay_out,
    queue,
    to_provider,
)
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text
from web.i18n import gettext
from web.templating import render


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "aftersale/approvals.html",
        status_code=status_code,
        requested=await queue(REQUESTED),
        approved=[r for r in await queue(APPROVED) if r["method"] != "sandbox"],
        failed=await queue(FAILED),
        **{"error": None, "message": None, **extra},
    )


@get("/aftersale/approvals", guards=[requires(Permission.REFUND_APPROVE)])
async def approvals_page(request: Request) -> Template:
    return await _page(request)


@post("/aftersale/refunds/{refund_id:int}/approve", guards=[requires(Permission.REFUND_APPROVE)])
async def approve(request: Request, refund_id: FromPath[int], data: Form) -> Template:
    try:
        done = await approve_refund(request.user.actor, refund_id, reference=field_text(data, "reference"))
        done = await to_provider(done)  # an online payment's refund goes to the provider after the commit
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return await _page(request, message=gettext("Refund {number} approved.", number=done.number))


@post("/aftersale/refunds/{refund_id:int}/decline", guards=[requires(Permission.REFUND_APPROVE)])
async def decline(request: Request, refund_id: FromPath[int], data: Form) -> Template:
    """Decline a refund awaiting approval with a reason: its tickets are valid again, at every gate."""
    try:
        done = await decline_refund(request.user.actor, refund_id, reason=field_text(data, "reason"))
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    await send_refund_email(request.user.actor, done, reason=field_text(data, "reason").strip())  # after the commit
    return await _page(
        request, message=gettext("Refund {number} declined; its tickets are valid again.", number=done.number)
    )


@post("/aftersale/refunds/{refund_id:int}/pay-out", guards=[requires(Permission.SALES_REFUND)])
async def paid_out(request: Request, refund_id: FromPath[int], data: Form) -> Template:
    try:
        done = await pay_out(request.user.actor, refund_id, reference=field_text(data, "reference"))
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return await _page(request, message=gettext("Refund {number} paid out.", number=done.number))


ROUTES = [approvals_page, approve, decline, paid_out]
