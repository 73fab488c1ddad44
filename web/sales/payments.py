"""Online payment endpoints (R3.4 step 4): the provider's signed server-to-server callback, and the
sandbox provider's checkout page where a customer "pays" (public: the order code is the customer's
reference; no customer data is shown)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from db.sales.payments.operations import handle_payment_callback, sandbox_checkout, sandbox_pay
from web.auth import PUBLIC
from web.errors import problem_responses
from web.templating import render

SIGNATURE_HEADER = "x-sandbox-signature"


@post(
    "/api/payments/{provider_name:str}/callback",
    opt=PUBLIC,
    status_code=200,
    tags=["payments"],
    responses=problem_responses(400, 404, 409, 422),
)
async def payment_callback(request: Request, provider_name: FromPath[str]) -> dict:
    """The provider's notice that a payment succeeded (HMAC-SHA256 of the body in X-Sandbox-Signature).
    Idempotent; a notice for an unknown or already-paid order changes nothing."""
    result = await handle_payment_callback(
        provider_name, await request.body(), request.headers.get(SIGNATURE_HEADER, "")
    )
    return {"order_code": result.code, "status": result.status, "outcome": result.outcome}


@get("/pay/sandbox/{reference:str}", opt=PUBLIC, include_in_schema=False)
async def checkout_page(request: Request, reference: FromPath[str]) -> Template:
    return render(request, "payments/sandbox_checkout.html", checkout=await sandbox_checkout(reference), result=None)


@post("/pay/sandbox/{reference:str}", opt=PUBLIC, include_in_schema=False, status_code=200)
async def checkout_pay(request: Request, reference: FromPath[str]) -> Template:
    result = await sandbox_pay(reference)
    return render(request, "payments/sandbox_checkout.html", checkout=await sandbox_checkout(reference), result=result)


ROUTES = [payment_callback, checkout_page, checkout_pay]
