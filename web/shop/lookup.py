"""Order lookup (R6.2): the order code plus the phone number or e-mail used. A match grants this browser
access to the order for 30 minutes; anything else gets one and the same answer (R6.3)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.core.errors import DomainError
from db.sales.channels.lookup import find_order, normalize_code
from web.auth import PUBLIC
from web.forms import failure, field_text, go
from web.shop.grants import client_key, grant
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]


async def lookup_page(request: Request, form: dict[str, Any], status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "shop/lookup.html",
        partial="shop/_lookup_form.html",
        status_code=status_code,
        form={"code": form.get("code", "")},
        **{"error": None, **extra},
    )


@get("/shop/lookup", opt=PUBLIC)
async def lookup_form(request: Request) -> Template:
    return await lookup_page(request, {})


@post("/shop/lookup", opt=PUBLIC)
async def lookup(request: Request, data: Form) -> Response:
    try:
        code = await find_order(client_key(request), field_text(data, "code"), field_text(data, "contact"))
    except DomainError as exc:
        return await lookup_page(request, data, exc.status_code, **failure(exc))
    return grant(request, go(request, f"/shop/orders/{code}"), code)


@get("/o/{code:str}", opt=PUBLIC)
async def short_link(code: FromPath[str]) -> Redirect:
    """The link in ticket e-mails and SMS (db.sales.delivery.operations.order_link)."""
    return Redirect(f"/shop/orders/{normalize_code(code)}", status_code=303)


ROUTES = [lookup_form, lookup, short_link]
