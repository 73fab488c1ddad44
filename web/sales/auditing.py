"""The audit queue (R3.4 step 3): orders waiting for an auditor, with what must be checked (buyer,
concession IDs masked, group size); approve, or reject with a reason the seller sees on the order page.
Showing the queue shows buyer data: each order shown is recorded as "customer.view" (R6.3)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from db.core.errors import DomainError
from db.sales.ordering.buyer_details import log_customer_view
from db.sales.ordering.orders import approve_order, reject_order
from db.sales.queries import audit_queue
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text
from web.i18n import gettext
from web.sales.common import concession_names
from web.templating import render

REFRESH_SECONDS = 10


async def _queue(request: Request, status_code: int = 200, **extra: Any) -> Template:
    orders = await audit_queue()
    if orders and request.user.can(Permission.CUSTOMER_DATA_VIEW):
        await log_customer_view(request.user.actor, [o["code"] for o in orders], "audit queue")
    return render(
        request,
        "sales/audit.html",
        partial="sales/_audit_queue.html",
        status_code=status_code,
        orders=orders,
        refresh=REFRESH_SECONDS,
        concession_names=await concession_names(),
        **{"error": None, "error_code": None, "message": None, "form": {}, **extra},
    )


@get("/sales/audit", guards=[requires(Permission.SALES_AUDIT)])
async def queue_page(request: Request) -> Template:
    return await _queue(request)


@post("/sales/audit/{code:str}/approve", guards=[requires(Permission.SALES_AUDIT)])
async def approve(request: Request, code: FromPath[str], data: Form) -> Template:
    try:
        await approve_order(request.user.actor, code, field_text(data, "note"))
    except DomainError as exc:
        return await _queue(request, exc.status_code, error_code=code, **failure(exc))
    return await _queue(request, message=gettext("Order {code} approved: the seller can take the payment.", code=code))


@post("/sales/audit/{code:str}/reject", guards=[requires(Permission.SALES_AUDIT)])
async def reject(request: Request, code: FromPath[str], data: Form) -> Template:
    try:
        await reject_order(request.user.actor, code, field_text(data, "reason"))
    except DomainError as exc:
        return await _queue(request, exc.status_code, error_code=code, form=data, **failure(exc))
    return await _queue(request, message=gettext("Order {code} rejected; its tickets are on sale again.", code=code))


ROUTES = [queue_page, approve, reject]
