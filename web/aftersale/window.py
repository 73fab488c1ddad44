"""Refunds at the box-office window (R5.3; SALES_REFUND): find the order by its code, the buyer's phone,
e-mail or ID number; record the proof of purchase and the ID checked (stored masked); choose the whole order
or single tickets; see the quote; confirm."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from db.core.errors import DomainError, InvalidInput
from db.sales.aftersale.refunds import quote_refund, refunds_of_order, request_refund
from db.sales.ordering.buyer import mask_id
from db.sales.ordering.buyer_details import log_customer_view, orders_for_phone
from db.sales.queries import get_order, search_orders
from db.sales.tables import Order
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, listed
from web.forms import ids as parse_ids
from web.templating import render

PROOFS = ("ticket", "order_code", "receipt", "phone_message")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}|[A-Za-z][A-Za-z0-9]{5,29}")  # resident ID, passport...


async def _find(request: Request, q: str) -> list[dict]:
    q = q.strip()
    if not q:
        return []
    code = q.upper()
    if await Order.exists().where(Order.code == code):
        return await search_orders(code=code)
    if _EMAIL.fullmatch(q):
        rows = (
            await Order.select(Order.code)
            .where(Order.buyer_email == q.lower())
            .order_by(Order.id, ascending=False)
            .limit(50)
        )
    elif not _ID_NUMBER.fullmatch(q) and re.fullmatch(r"\+?[0-9\s-]{6,24}", q):
        return await orders_for_phone(request.user.actor, q)
    else:
        rows = (
            await Order.select(Order.code)
            .where(Order.buyer_id_masked == mask_id(q))
            .order_by(Order.id, ascending=False)
            .limit(50)
        )
    codes = [r["code"] for r in rows]
    if codes:
        await log_customer_view(request.user.actor, codes, "orders found for a refund")
    return [row for c in codes for row in await search_orders(code=c)]


@get("/aftersale/refunds", guards=[requires(Permission.SALES_REFUND)])
async def find_page(request: Request, q: FromQuery[str] = "") -> Template:
    """Find the order to refund: its code, or the buyer's phone, e-mail or ID number."""
    error = None
    orders: list[dict] = []
    try:
        orders = await _find(request, q[:100])
    except DomainError as exc:
        error = failure(exc)["error"]
    return render(request, "aftersale/find.html", "aftersale/_found.html", q=q, orders=orders, error=error)


async def _order_page(request: Request, code: str, status_code: int = 200, **extra: Any) -> Template:
    order = await get_order(code.strip().upper())
    context = {
        "order": order,
        "quote": await quote_refund(order["code"]),
        "refunds": await refunds_of_order(order["id"]),
        "proofs": PROOFS,
        "error": None,
        "error_field": None,
        "form": {},
        "done": None,
        **extra,
    }
    return render(request, "aftersale/order.html", status_code=status_code, **context)


@get("/aftersale/orders/{code:str}", guards=[requires(Permission.SALES_REFUND)])
async def order_page(request: Request, code: FromPath[str]) -> Template:
    return await _order_page(request, code)


def _chosen(data: dict[str, Any]) -> list[int] | None:
    picked = listed(data, "ticket")
    return parse_ids(picked, "ticket") if picked and data.get("scope") == "tickets" else None


@post("/aftersale/orders/{code:str}/quote", guards=[requires(Permission.SALES_REFUND)])
async def quote_preview(request: Request, code: FromPath[str], data: Form) -> Template:
    """The quote for the tickets ticked (HTMX: the quote panel only)."""
    try:
        quote = await quote_refund(code, _chosen(data))
    except DomainError as exc:
        return render(request, "aftersale/_quote.html", quote=None, **failure(exc))
    return render(request, "aftersale/_quote.html", quote=quote, error=None)


@post("/aftersale/orders/{code:str}/refund", guards=[requires(Permission.SALES_REFUND)])
async def confirm_refund(request: Request, code: FromPath[str], data: Form) -> Template:
    """The seller confirms: the codes are void at once; the money goes back by the original means."""
    try:
        proof = field_text(data, "proof")
        if proof not in PROOFS:
            raise InvalidInput("Say what proof of purchase you checked.", field="proof")
        if not field_text(data, "id_number"):
            raise InvalidInput("Enter the number of the ID you checked.", field="id_number")
        done = await request_refund(
            request.user.actor,
            code,
            _chosen(data),
            channel="box_office",
            proof=proof,
            id_number=field_text(data, "id_number"),
            reference=field_text(data, "reference"),
        )
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, form=data, **failure(exc))
    return await _order_page(request, code, done=done)


ROUTES = [find_page, order_page, quote_preview, confirm_refund]
