"""The customer's order (R3.4 steps 4-5, R6.2): hold and payment, the sandbox checkout, e-tickets with QR
codes and the PDF, the e-mail, the status history and today's refund and exchange cost (R5.1, R5.2).

An order opens only for a browser holding a grant for it (after buying it or a successful lookup);
anyone else gets the lookup form, whether or not the code exists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.actor import Actor
from db.core.errors import DomainError
from db.inventory import realname
from db.sales.aftersale.notify import send_refund_email
from db.sales.aftersale.refunds import customer_refund
from db.sales.channels.lookup import normalize_code
from db.sales.channels.shop import checkout, customer_order, email_tickets, pay, settled, start_payment
from db.sales.ordering.orders import cancel_order
from db.sales.tickets.documents import qr_svg, ticket_pdf
from web import labels
from web.auth import PUBLIC
from web.forms import Form, failure, go
from web.i18n import format_fen, gettext
from web.inventory.realname import holder_from_form
from web.shop.grants import client_key, is_granted
from web.shop.lookup import lookup_page
from web.templating import render


async def _order_page(request: Request, code: str, status_code: int = 200, **extra) -> Template:
    view = await customer_order(code)
    return render(
        request,
        "shop/order.html",
        status_code=status_code,
        view=view,
        order=view.order,
        qr_svg=qr_svg,
        status_labels=labels.CUSTOMER_ORDER_STATUS,
        refund_rules=view.rules,
        holders=await realname.order_holders(code),
        **{"error": None, "notice": None, **extra},
    )


@get("/shop/orders/{code:str}", opt=PUBLIC)
async def order_page(request: Request, code: FromPath[str]) -> Response:
    return await _for_granted(request, code, lambda granted: _order_page(request, granted))


async def _for_granted(request: Request, code: str, action: Callable[[str], Awaitable[Response]]) -> Response:
    """Run `action` on an order this browser may open (else the lookup form); a refusal shows on the order page."""
    code = normalize_code(code)
    if not is_granted(request, code):
        return await lookup_page(request, {"code": code})
    try:
        return await action(code)
    except DomainError as exc:
        return await _order_page(request, code, exc.status_code, **failure(exc))


@post("/shop/orders/{code:str}/pay", opt=PUBLIC)
async def order_pay(request: Request, code: FromPath[str]) -> Response:
    async def start(code: str) -> Response:
        started = await start_payment(client_key(request), code)
        return go(request, f"/shop/checkout/{started.reference}")

    return await _for_granted(request, code, start)


@post("/shop/orders/{code:str}/cancel", opt=PUBLIC)
async def order_cancel(request: Request, code: FromPath[str]) -> Response:
    async def cancel(code: str) -> Response:
        await cancel_order(Actor.customer(client_key(request)), code, "cancelled by the customer online")
        return go(request, f"/shop/orders/{code}")

    return await _for_granted(request, code, cancel)


@post("/shop/orders/{code:str}/email", opt=PUBLIC)
async def order_email(request: Request, code: FromPath[str]) -> Response:
    async def send(code: str) -> Response:
        if await email_tickets(client_key(request), code):
            return await _order_page(request, code, notice=gettext("The e-tickets were sent to your e-mail again."))
        return await _order_page(
            request,
            code,
            409,
            error=gettext("The e-mail could not be sent. Download the PDF below or try again later."),
        )

    return await _for_granted(request, code, send)


@post("/shop/orders/{code:str}/refund", opt=PUBLIC)
async def order_refund(request: Request, code: FromPath[str]) -> Response:
    """The customer refunds the whole order after seeing today's quote; the e-mail follows the answer."""

    async def refund(code: str) -> Response:
        actor = Actor.customer(client_key(request))
        done = await customer_refund(actor, code)
        notice = gettext(
            "Refund {number}: you get back {amount}.", number=done.number, amount=format_fen(done.refund_fen)
        )
        page = await _order_page(request, code, notice=notice)
        page.background = BackgroundTask(send_refund_email, actor, done)
        return page

    return await _for_granted(request, code, refund)


@post("/shop/orders/{code:str}/holders/{ticket_id:int}", opt=PUBLIC)
async def order_holder(request: Request, code: FromPath[str], ticket_id: FromPath[int], data: Form) -> Response:
    """The buyer changes a real-name ticket's holder on the order page (once, before the cut-off)."""

    async def change(code: str) -> Response:
        await realname.change_holder(Actor.customer(client_key(request)), code, ticket_id, holder_from_form(data))
        return await _order_page(request, code, notice=gettext("The ticket's holder was changed."))

    return await _for_granted(request, code, change)


@get("/shop/orders/{code:str}/tickets.pdf", opt=PUBLIC)
async def order_pdf(request: Request, code: FromPath[str]) -> Response:
    async def download(code: str) -> Response:
        if not (await customer_order(code)).order["tickets"]:
            return await _order_page(request, code, 409, error=gettext("This order has no tickets yet."))
        return Response(
            await ticket_pdf(code),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="tickets-{code}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    return await _for_granted(request, code, download)


@get("/shop/orders/{code:str}/email-status", opt=PUBLIC)
async def order_email_status(request: Request, code: FromPath[str]) -> Response:
    """The e-mail line of the order page, polled while the e-tickets are being sent."""

    async def status(code: str) -> Response:
        return render(request, "shop/_email_status.html", order=(await customer_order(code)).order)

    return await _for_granted(request, code, status)


@get("/shop/checkout/{reference:str}", opt=PUBLIC)
async def checkout_page(request: Request, reference: FromPath[str]) -> Template:
    """The sandbox payment provider's checkout, inside the shop: the amount and one button."""
    payment = await checkout(reference)
    if not is_granted(request, payment["order_code"]):
        return await lookup_page(request, {"code": payment["order_code"]})
    return render(request, "shop/checkout.html", payment=payment)


@post("/shop/checkout/{reference:str}", opt=PUBLIC)
async def checkout_pay(request: Request, reference: FromPath[str]) -> Response:
    payment = await checkout(reference)
    code = payment["order_code"]
    if not is_granted(request, code):
        return await lookup_page(request, {"code": code})
    if payment["status"] != "pending":
        return go(request, f"/shop/orders/{code}")
    result = await pay(reference)
    # The e-mail (PDF attached) goes out after the answer: the customer sees the order page at once.
    background = BackgroundTask(email_tickets, client_key(request), code) if settled(result) else None
    return go(request, f"/shop/orders/{code}", background=background)


ROUTES = [
    order_page,
    order_pay,
    order_cancel,
    order_refund,
    order_holder,
    order_email,
    order_email_status,
    order_pdf,
    checkout_page,
    checkout_pay,
]
