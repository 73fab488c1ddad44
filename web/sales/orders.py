"""Orders at the window: the order page (hold countdown, audit result, price breakdown, history),
payment at the window (R3.4 step 4), the issued tickets with QR images and PDF, delivery (step 5), and
the staff order search (R6.2). Buyer details only for CUSTOMER_DATA_VIEW, each use recorded (R6.3)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from db.core.errors import DomainError, InvalidInput
from db.inventory import realname
from db.sales.delivery.operations import HANDOVER_KINDS, record_handover, send_ticket_email, send_ticket_sms
from db.sales.ordering.buyer_details import buyer_details, orders_for_phone
from db.sales.ordering.orders import cancel_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.queries import get_order, search_orders, ticket_by_id
from db.sales.status import ORDER_STATUSES, PAID, PAYABLE, WINDOW_METHODS
from db.sales.tickets.documents import qr_png, ticket_pdf
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text
from web.i18n import format_fen, gettext
from web.inventory.realname import holder_from_form
from web.sales.common import concession_names, fen_from_yuan
from web.templating import render

PAGE_SIZE = 50


async def _order_page(request: Request, code: str, status_code: int = 200, **extra: Any) -> Template:
    order = await get_order(code.strip().upper())
    return render(
        request,
        "sales/order.html",
        partial="sales/_order.html",
        status_code=status_code,
        order=order,
        payable=order["status"] in PAYABLE,
        paid=order["status"] == PAID,
        methods=WINDOW_METHODS,
        handovers=HANDOVER_KINDS,
        concession_names=await concession_names(),
        holders=await realname.order_holders(order["code"]),
        **{"form": {}, "error": None, "error_field": None, "message": None, **extra},
    )


@get("/sales/orders/{code:str}", guards=[requires(Permission.SALES_INQUIRE)])
async def order_page(request: Request, code: FromPath[str]) -> Template:
    return await _order_page(request, code)


@get("/sales/orders/{code:str}/buyer", guards=[requires(Permission.CUSTOMER_DATA_VIEW)])
async def order_buyer(request: Request, code: FromPath[str]) -> Template:
    """The buyer's details, opened on purpose; recorded as "customer.view"."""
    return render(request, "sales/_buyer.html", buyer=await buyer_details(request.user.actor, code))


@post("/sales/orders/{code:str}/pay", guards=[requires(Permission.SALES_SELL)])
async def order_pay(request: Request, code: FromPath[str], data: Form) -> Template:
    """The seller confirms the money arrived at the window; the tickets are issued."""
    method = field_text(data, "method")
    try:
        tendered = (
            fen_from_yuan(data, "tendered", "Enter the cash the buyer handed over.") if method == "cash" else None
        )
        if method == "cash" and data.get("received") != "on":
            raise InvalidInput("Tick “money received” once you have the money.", field="received")
        result = await confirm_window_payment(
            request.user.actor, code, method, tendered, reference=field_text(data, "reference")
        )
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, form=data, **failure(exc))
    message = gettext("Paid. Tickets issued.")
    if result.change_fen:
        message = gettext("Paid. Give change: {change}.", change=format_fen(result.change_fen))
    return await _order_page(request, code, message=message)


@post("/sales/orders/{code:str}/cancel", guards=[requires(Permission.SALES_SELL)])
async def order_cancel(request: Request, code: FromPath[str], data: Form) -> Template:
    try:
        await cancel_order(request.user.actor, code, field_text(data, "reason"))
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, **failure(exc))
    return await _order_page(request, code, message=gettext("Order cancelled; its tickets are on sale again."))


@post("/sales/orders/{code:str}/holders/{ticket_id:int}", guards=[requires(Permission.SALES_SELL)])
async def order_holder(request: Request, code: FromPath[str], ticket_id: FromPath[int], data: Form) -> Template:
    """A seller changes a real-name ticket's holder (once, before the cut-off; db/inventory/realname.py)."""
    try:
        await realname.change_holder(request.user.actor, code.strip().upper(), ticket_id, holder_from_form(data))
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, **failure(exc))
    return await _order_page(request, code, message=gettext("The ticket's holder was changed."))


@post("/sales/orders/{code:str}/deliver", guards=[requires(Permission.SALES_SELL)])
async def order_deliver(request: Request, code: FromPath[str], data: Form) -> Template:
    """E-mail or SMS the e-tickets, or record paper tickets picked up or mailed."""
    kind, actor = field_text(data, "kind"), request.user.actor
    try:
        if kind == "email":
            await send_ticket_email(actor, code)
        elif kind == "sms":
            await send_ticket_sms(actor, code)
        else:
            await record_handover(actor, code, kind, field_text(data, "note"))
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, form=data, **failure(exc))
    return await _order_page(request, code, message=gettext("Delivery recorded."))


@get("/sales/orders/{code:str}/tickets.pdf", guards=[requires(Permission.SALES_SELL)])
async def order_pdf(code: FromPath[str]) -> Response:
    order = await get_order(code.strip().upper())
    if order["status"] != PAID:
        raise InvalidInput("Tickets are delivered only for a paid order.")
    return Response(
        await ticket_pdf(order["code"]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="tickets-{order["code"]}.pdf"'},
    )


@get("/sales/tickets/{ticket_id:int}/qr.png", guards=[requires(Permission.SALES_SELL)])
async def ticket_qr(ticket_id: FromPath[int]) -> Response:
    ticket = await ticket_by_id(ticket_id)
    return Response(
        qr_png(ticket["code"], scale=8), media_type="image/png", headers={"Cache-Control": "private, no-store"}
    )


async def _order_search(request: Request, code: str, phone: str, status: str) -> Template:
    """Search by order code, buyer phone (CUSTOMER_DATA_VIEW only; recorded) or status."""
    code, phone, status = code.strip(), phone.strip(), status.strip()
    extra: dict[str, Any] = {"error": None, "error_field": None}
    chosen = status if status in ORDER_STATUSES else None
    orders: list[dict] = []
    try:
        if phone and not request.user.can(Permission.CUSTOMER_DATA_VIEW):
            raise InvalidInput("Searching by phone shows customer data; your role does not allow it.", field="phone")
        if phone:
            orders = await orders_for_phone(request.user.actor, phone, chosen)
        else:
            orders = await search_orders(code=code or None, status=chosen, limit=PAGE_SIZE)
    except DomainError as exc:
        extra = failure(exc)
    return render(
        request,
        "sales/orders.html",
        partial="sales/_orders.html",
        status_code=422 if extra["error"] else 200,
        orders=orders,
        statuses=ORDER_STATUSES,
        filters={"code": code, "phone": phone, "status": status},
        searched=bool(code or phone or status),
        **extra,
    )


@get("/sales/orders", guards=[requires(Permission.SALES_INQUIRE)])
async def order_list(request: Request, code: FromQuery[str] = "", status: FromQuery[str] = "") -> Template:
    """Orders by code or status (the address may be bookmarked: it carries no customer data)."""
    return await _order_search(request, code, "", status)


@post("/sales/orders/search", guards=[requires(Permission.SALES_INQUIRE)])
async def order_search(request: Request, data: Form) -> Template:
    """The search form, sent as a POST: a buyer's phone number stays out of the URL, the browser history
    and proxy logs (issue 9, defect 6)."""
    return await _order_search(request, field_text(data, "code"), field_text(data, "phone"), field_text(data, "status"))


ROUTES = [
    order_page,
    order_buyer,
    order_pay,
    order_cancel,
    order_holder,
    order_deliver,
    order_pdf,
    ticket_qr,
    order_list,
    order_search,
]
