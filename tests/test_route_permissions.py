"""Every route is protected as it declares (R2.2, R6.3): a handler names a Permission in its guard, or
says in `opt` that it is public or for partner API keys. Walks every route of the real app."""

from __future__ import annotations

import re

from litestar.handlers import HTTPRouteHandler

from db.staff.permissions import Role, role_allows
from tests.helpers import fetch_csrf, http_client, make_staff, sign_in
from web.app import create_app

OPEN_KINDS = {"public", "partner", "device"}


def declared_routes():
    """(path, method, permission or None, handler) for every HTTP route handler of the app."""
    app = create_app()
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            permissions = [g.permission for g in handler.resolve_guards() if hasattr(g, "permission")]
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                out.append((route.path, method, permissions[0] if permissions else None, handler))
    return out


def concrete(path: str) -> str:
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    path = re.sub(r"\{[^}:]+:path\}", "x", path)
    return re.sub(r"\{[^}:]+(:[^}]+)?\}", "x", path)


def test_every_route_declares_its_protection():
    undeclared = []
    for path, method, permission, handler in declared_routes():
        if path.startswith("/schema"):
            continue  # Litestar's OpenAPI documentation is public by design
        kinds = OPEN_KINDS & {k for k, v in handler.opt.items() if v}
        if permission is None and not kinds:
            undeclared.append(f"{method} {path}")
        assert not (permission and kinds), f"{method} {path} is both guarded and {kinds}"
    assert not undeclared, f"routes without a declared permission: {undeclared}"


async def test_every_guarded_route_refuses_anonymous_and_roles_without_its_permission():
    # Sign-out ends the session it is probed with, so it goes last.
    protected = sorted(
        ((p, m, perm, h) for p, m, perm, h in declared_routes() if perm is not None), key=lambda r: r[0] == "/logout"
    )
    assert protected
    problems: list[str] = []
    async with http_client() as anonymous:
        csrf = await fetch_csrf(anonymous)
        for path, method, _, _ in protected:
            url = concrete(path)
            response = await anonymous.request(method, url, headers={"x-csrftoken": csrf}, follow_redirects=False)
            expected_login = (
                path.startswith("/api/")
                and response.status_code == 401
                or (response.status_code == 303 and response.headers["location"].startswith("/login"))
            )
            if not expected_login:
                problems.append(f"anonymous {method} {url}: {response.status_code}")
    for role in Role:
        await make_staff(role, f"probe_{role.value}")
        async with http_client() as client:
            await sign_in(client, f"probe_{role.value}")
            csrf = await fetch_csrf(client)
            for path, method, permission, handler in protected:
                url = concrete(path)
                allowed = role_allows(role, permission)
                if allowed and handler.opt.get("stream"):
                    continue  # an endless event stream; its content has its own tests
                response = await client.request(method, url, headers={"x-csrftoken": csrf}, follow_redirects=False)
                if allowed and response.status_code in (401, 403):
                    problems.append(f"{role} should reach {method} {url}: {response.status_code}")
                if not allowed and response.status_code != 403:
                    problems.append(f"{role} must not reach {method} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)
