"""What the sales screens share: form values, refused operations as on-page errors, and redirects that
work for HTMX (HX-Redirect) and for plain form posts (303)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import URLEncodedBody
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Response

from db.catalog.pricing import yuan_to_fen
from db.core.errors import InvalidInput
from db.sales.policy import concession_kinds
from web.catalog.forms import failure, text, whole_number

Form = URLEncodedBody[dict[str, Any]]

__all__ = ["Form", "failure", "text", "whole_number", "listed", "go", "fen_from_yuan", "is_htmx", "concession_names"]


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


def go(request: Request, url: str) -> Response:
    """After a successful POST: the browser goes to `url` (HTMX follows HX-Redirect)."""
    return ClientRedirect(url) if is_htmx(request) else Redirect(url, status_code=303)


def listed(data: dict[str, Any], name: str) -> list[str]:
    """A repeated form field (checkboxes) as a list of non-empty strings."""
    value = data.get(name)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def fen_from_yuan(data: dict[str, Any], name: str, required_message: str) -> int:
    value = text(data, name)
    if not value:
        raise InvalidInput(required_message, field=name)
    return yuan_to_fen(value, field=name)


async def concession_names() -> dict[str, dict]:
    """Every concession kind (also inactive ones, which old orders may carry) by code, for naming them."""
    return {k["code"]: k for k in await concession_kinds(active_only=False)}
