"""Online payment endpoints (R3.4 step 4, R5.3): the provider's signed server-to-server callbacks (a payment, a
refund's outcome), and the sandbox provider's own pages: its checkout where a customer "pays" (public: the order
code is the customer's reference; no customer data is shown) and its refund API, which merchants call signed."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Template

from db.core.errors import DomainError
from db.sales.aftersale.refunds import handle_refund_callback
from db.sales.payments import sandbox
from db.sales.payments.operations import handle_payment_callback, sandbox_checkout, sandbox_pay
from web.auth import PUBLIC
from web.errors import explain, problem, problem_responses
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


@post(
    "/api/payments/{provider_name:str}/refund-callback",
    opt=PUBLIC,
    status_code=200,
    tags=["payments"],
    responses=problem_responses(400, 404, 422),
)
async def refund_callback(request: Request, provider_name: FromPath[str]) -> dict:
    """The provider's notice of a refund's outcome `{number, status: succeeded|failed, failure}` (HMAC-SHA256 of
    the body in X-Sandbox-Signature). Idempotent: the same notice again changes nothing."""
    number, status = await handle_refund_callback(
        provider_name, await request.body(), request.headers.get(SIGNATURE_HEADER, "")
    )
    return {"number": number, "status": status}


@post("/pay/sandbox/refunds", opt=PUBLIC, tags=["payments"], responses=problem_responses(404, 409, 422))
async def sandbox_refund(request: Request) -> Response:
    """The sandbox provider's refund API: `{number, reference, order_code, amount_fen, notify_url}` signed like its
    callbacks. 202 `{number, status: "processing"}` for a new refund, whose outcome is posted to `notify_url`
    later; the same number again answers 200 with that refund's status (never a second refund)."""
    try:
        answer, created = await sandbox.accept_refund(await request.body(), request.headers.get(SIGNATURE_HEADER, ""))
    except DomainError as exc:
        return problem(exc.status_code, explain(exc))
    return Response(
        {"number": answer.number, "status": answer.status, "failure": answer.failure},
        status_code=202 if created else 200,
        background=BackgroundTask(sandbox.settle_and_deliver, answer.number) if created else None,
    )


@get("/pay/sandbox/{reference:str}", opt=PUBLIC, include_in_schema=False)
async def checkout_page(request: Request, reference: FromPath[str]) -> Template:
    return render(request, "payments/sandbox_checkout.html", checkout=await sandbox_checkout(reference), result=None)


@post("/pay/sandbox/{reference:str}", opt=PUBLIC, include_in_schema=False, status_code=200)
async def checkout_pay(request: Request, reference: FromPath[str]) -> Template:
    result = await sandbox_pay(reference)
    return render(request, "payments/sandbox_checkout.html", checkout=await sandbox_checkout(reference), result=result)


ROUTES = [payment_callback, refund_callback, sandbox_refund, checkout_page, checkout_pay]
