"""Exchanges at the box-office window (R5.4; SALES_REFUND, the after-sale duty): from the order's refund page
the seller picks the tickets, another session, class and seats of the same event, sees the quote (fee, value
carried, difference), takes or pays back the difference (cash from the drawer, card or mobile with its
reference) and confirms; the new tickets are e-mailed."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from db.core.errors import DomainError, InvalidInput
from db.sales.aftersale.exchanges import Target, exchange, exchange_options, exchanges_of_order, quote_exchange
from db.sales.queries import get_order
from db.sales.status import WINDOW_METHODS
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, Form, QueryId, failure, field_text, listed, whole_number
from web.forms import ids as parse_ids
from web.templating import render


def target_from(data: dict[str, Any]) -> tuple[list[int] | None, Target]:
    """The tickets ticked (none: every valid ticket) and the target chosen in an exchange form."""
    picked = listed(data, "ticket")
    tickets = parse_ids(picked, "ticket") if picked else None
    session = field_text(data, "session_id")
    price_class = field_text(data, "price_class_id")
    if not session or not price_class:
        raise InvalidInput("Choose the session and the price class to exchange to.", field="price_class_id")
    return tickets, Target(
        whole_number(session, field="session_id", minimum=1, maximum=MAX_ID),
        whole_number(price_class, field="price_class_id", minimum=1, maximum=MAX_ID),
        tuple(parse_ids(listed(data, "seat"), "seat")),
    )


async def exchange_context(code: str, session_id: int | None, price_class_id: int | None) -> dict[str, Any]:
    order = await get_order(code.strip().upper())
    return {
        "order": order,
        "options": await exchange_options(order["code"], session_id, price_class_id),
        "exchanges": await exchanges_of_order(order["id"]),
        "quote": None,
        "error": None,
        "error_field": None,
        "form": {},
        "done": None,
    }


async def _page(
    request: Request, code: str, session_id: int | None, price_class_id: int | None, status_code: int = 200, **extra
) -> Template:
    context = {**await exchange_context(code, session_id, price_class_id), **extra}
    return render(request, "aftersale/exchange.html", status_code=status_code, methods=WINDOW_METHODS, **context)


@get("/aftersale/orders/{code:str}/exchange", guards=[requires(Permission.SALES_REFUND)])
async def exchange_page(
    request: Request, code: FromPath[str], session_id: QueryId = None, price_class_id: QueryId = None
) -> Template:
    return await _page(request, code, session_id, price_class_id)


def _chosen_ids(data: dict[str, Any]) -> tuple[int | None, int | None]:
    try:
        _, target = target_from(data)
    except DomainError:
        return None, None
    return target.session_id, target.price_class_id


@post("/aftersale/orders/{code:str}/exchange/quote", guards=[requires(Permission.SALES_REFUND)])
async def exchange_quote_preview(request: Request, code: FromPath[str], data: Form) -> Template:
    """The quote for the tickets and seats ticked (HTMX: the quote panel only)."""
    try:
        tickets, target = target_from(data)
        quote = await quote_exchange(code, tickets, target)
    except DomainError as exc:
        return render(request, "aftersale/_exchange_quote.html", quote=None, **failure(exc))
    return render(request, "aftersale/_exchange_quote.html", quote=quote, error=None)


@post("/aftersale/orders/{code:str}/exchange", guards=[requires(Permission.SALES_REFUND)])
async def confirm_exchange(request: Request, code: FromPath[str], data: Form) -> Template:
    """The seller confirms: the old codes are void at once, the new tickets issued and e-mailed."""
    session_id, price_class_id = _chosen_ids(data)
    try:
        tickets, target = target_from(data)
        method = field_text(data, "method") or "cash"
        if method not in WINDOW_METHODS:
            raise InvalidInput("Choose how the price difference is paid.", field="method")
        done = await exchange(
            request.user.actor,
            code,
            tickets,
            target,
            channel="box_office",
            method=method,
            reference=field_text(data, "reference"),
        )
    except DomainError as exc:
        return await _page(request, code, session_id, price_class_id, exc.status_code, form=data, **failure(exc))
    return await _page(request, code, None, None, done=done)


ROUTES = [exchange_page, exchange_quote_preview, confirm_exchange]
