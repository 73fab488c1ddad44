"""Two-step sign-in for one's own account (issue 14): /account/two-factor shows whether it is on, sets it up
(a QR code for the authenticator app, then a first code) and turns it off with a current code; an
administrator can turn it off for a staff member who lost their phone."""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.core.errors import DomainError
from db.staff import two_factor
from db.staff.permissions import Permission
from db.staff.tables import StaffUser
from web.auth import requires
from web.errors import explain
from web.forms import field_text

Form = URLEncodedBody[dict[str, Any]]
NO_STORE = {"Cache-Control": "no-store"}


async def _page(request: Request, status_code: int = 200, **context: Any) -> Template:
    row = await StaffUser.select(StaffUser.totp_confirmed_at).where(StaffUser.id == request.user.id).first()
    context.setdefault("qr_svg", None)
    context.setdefault("error", None)
    return Template(
        "staff/two_factor.html",
        context={
            "on_since": row["totp_confirmed_at"] if row else None,
            "required": request.user.role in two_factor.required_roles(),
            **context,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@get("/account/two-factor", guards=[requires(Permission.HOME)], name="two-factor")
async def two_factor_page(request: Request) -> Template:
    return await _page(request)


@post("/account/two-factor/begin", guards=[requires(Permission.HOME)])
async def two_factor_begin(request: Request) -> Template:
    try:
        uri = await two_factor.begin(request.user.actor)
    except DomainError as exc:
        return await _page(request, exc.status_code, error=explain(exc))
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    return await _page(request, qr_svg=segno.make_qr(uri, error="m").svg_inline(scale=5), secret=secret)


@post("/account/two-factor/confirm", guards=[requires(Permission.HOME)])
async def two_factor_confirm(request: Request, data: Form) -> Response:
    try:
        await two_factor.confirm(request.user.actor, field_text(data, "one_time_code"))
    except DomainError as exc:
        return await _page(request, exc.status_code, error=explain(exc))
    return Redirect("/account/two-factor", status_code=303)


@post("/account/two-factor/off", guards=[requires(Permission.HOME)])
async def two_factor_off(request: Request, data: Form) -> Response:
    try:
        await two_factor.check(request.user.id, field_text(data, "one_time_code"))
        await two_factor.turn_off(request.user.actor, request.user.id)
    except DomainError as exc:
        return await _page(request, exc.status_code, error=explain(exc))
    return Redirect("/account/two-factor", status_code=303)


@post("/staff/{user_id:int}/two-factor/off", guards=[requires(Permission.STAFF_MANAGE)])
async def two_factor_reset(request: Request, user_id: FromPath[int]) -> Redirect:
    await two_factor.turn_off(request.user.actor, user_id)
    return Redirect("/staff", status_code=303)


ROUTES = [two_factor_page, two_factor_begin, two_factor_confirm, two_factor_off, two_factor_reset]
NAV = [(Permission.HOME, "/account/two-factor", "Two-step sign-in")]
