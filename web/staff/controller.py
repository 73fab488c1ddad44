from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.core.errors import DomainError
from db.staff import accounts, throttle
from db.staff.permissions import ROLE_PERMISSIONS, Permission
from web import labels
from web.auth import PUBLIC, requires
from web.errors import explain
from web.forms import field_text
from web.i18n import LANGUAGES, gettext, translated_labels
from web.settings import COOKIE_SECURE, LANGUAGE_COOKIE, SESSION_COOKIE
from web.staff import two_factor
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@get("/login", opt=PUBLIC, name="login")
async def login_page(request: Request, next: FromQuery[str | None] = None) -> Template:
    return render(request, "staff/login.html", next=_safe_next(next), error=None, username="")


@post("/login", opt=PUBLIC)
async def login(request: Request, data: Form) -> Response:
    username = str(data.get("username", ""))
    client = request.client.host if request.client else "unknown"
    try:
        token, principal = await accounts.sign_in(
            username, str(data.get("password", "")), client, str(data.get("one_time_code", ""))[:16]
        )
    except DomainError as exc:
        return render(
            request,
            "staff/login.html",
            status_code=exc.status_code,
            next=_safe_next(data.get("next")),
            error=explain(exc),
            username=username,
        )
    target = "/account/two-factor" if principal.must_enrol else _safe_next(data.get("next"))
    response = Redirect(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=COOKIE_SECURE,
        samesite="lax",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    return response


@post("/logout", guards=[requires(Permission.HOME)])
async def logout(request: Request) -> Redirect:
    if request.auth:
        await accounts.sign_out(request.auth)
    response = Redirect("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@post("/lang", opt=PUBLIC)
async def switch_language(request: Request, data: Form) -> Redirect:
    language = data.get("language")
    response = Redirect(_safe_next(data.get("next")), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", secure=COOKIE_SECURE)
    return response


@get("/", guards=[requires(Permission.HOME)], name="home")
async def home(request: Request) -> Template:
    return render(request, "staff/home.html")


@get("/staff", guards=[requires(Permission.STAFF_MANAGE)], name="staff")
async def staff_list(request: Request) -> Template:
    return await _staff_page(request)


async def _staff_page(request: Request, exc: DomainError | None = None, form: dict | None = None) -> Template:
    """The staff accounts and the permission matrix (each permission as what it allows); with a refused form."""
    return render(
        request,
        "staff/staff.html",
        status_code=exc.status_code if exc else 200,
        staff=await accounts.list_staff(),
        roles=labels.ROLE,
        matrix=ROLE_PERMISSIONS,
        permissions=list(Permission),
        permission_labels=translated_labels(labels.PERMISSION),
        error=explain(exc) if exc else None,
        form=form or {},
    )


@post("/staff", guards=[requires(Permission.STAFF_MANAGE)])
async def staff_create(request: Request, data: Form) -> Response:
    try:
        await accounts.create_staff(
            request.user.actor,
            str(data.get("username", "")),
            str(data.get("display_name", "")),
            str(data.get("role", "")),
            str(data.get("password", "")),
        )
    except DomainError as exc:
        return await _staff_page(request, exc, data)
    return Redirect("/staff", status_code=303)


@post("/staff/{user_id:int}", guards=[requires(Permission.STAFF_MANAGE)])
async def staff_update(request: Request, user_id: FromPath[int], data: Form) -> Response:
    try:
        await accounts.update_staff(
            request.user.actor,
            user_id,
            role=str(data.get("role", "")),
            active=data.get("active") == "on",
            password=str(data.get("password", "")),
        )
    except DomainError as exc:
        return await _staff_page(request, exc)
    return Redirect("/staff", status_code=303)


async def _limits_page(request: Request, message: str | None = None) -> Template:
    return render(
        request,
        "staff/sign_in_limits.html",
        accounts=await throttle.limited_accounts(),
        window_minutes=int(throttle.WINDOW.total_seconds() // 60),
        pair_limit=throttle.MAX_FAILURES_PER_PAIR,
        message=message,
    )


@get("/staff/sign-in-limits", guards=[requires(Permission.STAFF_UNLOCK)])
async def sign_in_limits(request: Request) -> Template:
    """Accounts slowed or refused at sign-in (issue 9); the supervisor clears them."""
    return await _limits_page(request)


@post("/staff/sign-in-limits/unlock", guards=[requires(Permission.STAFF_UNLOCK)])
async def sign_in_unlock(request: Request, data: Form) -> Template:
    username = field_text(data, "username")
    await throttle.unlock(request.user.actor, username)
    return await _limits_page(request, gettext("The sign-in limits of {username} are cleared.", username=username))


ROUTES = [
    login_page,
    login,
    logout,
    switch_language,
    home,
    staff_list,
    staff_create,
    staff_update,
    sign_in_limits,
    sign_in_unlock,
    *two_factor.ROUTES,
]

NAV = [
    (Permission.STAFF_MANAGE, "/staff", "Staff accounts"),
    (Permission.STAFF_UNLOCK, "/staff/sign-in-limits", "Sign-in limits"),
    *two_factor.NAV,
]
