"""Who is asking: the staff session cookie, the request's language, and the permission guards.

Every route handler either names a Permission in `guards=[requires(...)]` or says how else it is
protected in `opt` ("public" or "partner"); tests/test_route_permissions.py holds every route to that."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from db.staff.accounts import StaffPrincipal, principal_for_token
from db.staff.permissions import Permission
from web.i18n import current_language, pick_language
from web.settings import LANGUAGE_COOKIE, SESSION_COOKIE

PUBLIC = {"public": True}


def parse_cookies(scope: Scope) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key:
                    cookies.setdefault(key, val)
    return cookies


class SessionMiddleware(ASGIMiddleware):
    """Attach the signed-in staff member (or None) and the request's language to the scope."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        cookies = parse_cookies(scope)
        token = cookies.get(SESSION_COOKIE)
        scope["user"] = await principal_for_token(token) if token else None
        scope["auth"] = token
        current_language.set(pick_language(cookies.get(LANGUAGE_COOKIE)))
        await next_app(scope, receive, send)


def requires(permission: Permission):
    """A guard that lets through signed-in staff whose role has `permission`."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: StaffPrincipal | None = connection.scope.get("user")
        if user is None:
            raise NotAuthorizedException("Sign in first.")
        if not user.can(permission):
            raise PermissionDeniedException(f"This needs the permission {permission.value}.")
        if user.must_enrol and permission is not Permission.HOME:
            raise PermissionDeniedException(
                "Your role signs in with two steps: set it up first at /account/two-factor."
            )

    guard.permission = permission  # type: ignore[attr-defined]
    guard.__name__ = f"requires_{permission.name.lower()}"
    return guard
