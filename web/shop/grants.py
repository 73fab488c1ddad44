"""Which orders this browser may open: a short-lived, signed, HttpOnly cookie listing order codes, set
after a purchase or a successful lookup. It holds order codes only, never customer data; the client
pseudonym used for rate limits is a keyed hash of the address, so the address itself is never stored."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import cache

from litestar import Request, Response

from web.settings import COOKIE_SECURE, secret_key

GRANT_COOKIE = "tc_shop_orders"
GRANT_SECONDS = 30 * 60
MAX_ORDERS = 5


@cache
def _key(purpose: str) -> bytes:
    return hmac.new(secret_key().encode(), purpose.encode(), hashlib.sha256).digest()


def _sign(payload: str) -> str:
    return hmac.new(_key("shop-grant"), payload.encode(), hashlib.sha256).hexdigest()[:32]


def granted_codes(request: Request) -> list[str]:
    """The order codes of a valid, unexpired grant cookie (newest first); [] otherwise."""
    value = request.cookies.get(GRANT_COOKIE, "")
    payload, _, signature = value.rpartition("-")
    if not payload or not hmac.compare_digest(_sign(payload), signature):
        return []
    expires, *codes = payload.split("-")
    if not expires.isdigit() or int(expires) < time.time():
        return []
    return codes


def is_granted(request: Request, code: str) -> bool:
    return code in granted_codes(request)


def grant(request: Request, response: Response, code: str) -> Response:
    """Let this browser open `code` (and the orders it could already open) for the next 30 minutes."""
    codes = [code, *(c for c in granted_codes(request) if c != code)][:MAX_ORDERS]
    payload = "-".join([str(int(time.time()) + GRANT_SECONDS), *codes])
    response.set_cookie(
        GRANT_COOKIE,
        f"{payload}-{_sign(payload)}",
        max_age=GRANT_SECONDS,
        httponly=True,
        secure=COOKIE_SECURE,
        samesite="lax",
        path="/",
    )
    return response


def client_key(request: Request) -> str:
    """The client's pseudonym for rate limits and audit entries: a keyed hash of its address."""
    address = request.client.host if request.client else "unknown"
    return hmac.new(_key("shop-client"), address.encode(), hashlib.sha256).hexdigest()[:16]
