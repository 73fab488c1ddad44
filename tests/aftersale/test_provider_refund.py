"""The sandbox provider's refund is a real HTTP call (R5.3, issue 10): asked for after the refund's commit under
its refund number, answered "processing", its outcome posted later to our signed callback by the sandbox running
in the served app. Success books the money back once; a failure lands in the manual queue; a repeated callback or
a repeated request under the same number changes nothing; a provider out of reach is asked again later."""

from __future__ import annotations

import asyncio
import time

import httpx

from db.finance.tables import LedgerEntry, ProviderBook
from db.sales.aftersale.refunds import APPROVED, DONE, FAILED, ask_provider_again, customer_refund, queue
from db.sales.aftersale.tables import Refund
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import handle_payment_callback, sandbox_pay, start_online_payment
from db.sales.payments.providers import RefundAnswer, provider
from db.sales.tables import SandboxRefund
from tests.browser.conftest import live_server  # noqa: F401  (the real app over HTTP: the sandbox lives in it)
from tests.helpers import ADMIN_ACTOR, utc
from tests.sales.support import BUYER, sales_catalog


async def _online_order(ids: dict, seat: int, *, provider_took_it: bool = True) -> tuple[str, str]:
    """An order paid online: on the sandbox's checkout (the provider's books have the money), or by a notice the
    provider's books do not know (its refund will fail there)."""
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="web_shop",
        buyer=BUYER,
        items=[ItemRequest(seat_id=seat)],
    )
    checkout = await start_online_payment(ADMIN_ACTOR, order.code)
    if provider_took_it:
        await sandbox_pay(checkout.reference)
    else:
        body, signature = provider("sandbox").callback_body(checkout.reference, order.code, order.total_fen)
        await handle_payment_callback("sandbox", body, signature)
    return order.code, checkout.reference


async def _status(number: str, *, not_: str = APPROVED, seconds: float = 15) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = (await Refund.select(Refund.status).where(Refund.number == number).first())["status"]
        if status != not_:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"refund {number} still {not_}")


async def _refunds_booked(number: str) -> tuple[int, int]:
    """(our ledger's refund entries, the provider's refund lines) of a refund."""
    refund = await Refund.select(Refund.id, Refund.order.code).where(Refund.number == number).first()
    ours = await LedgerEntry.count().where((LedgerEntry.kind == "refund") & (LedgerEntry.refund_id == refund["id"]))
    theirs = await ProviderBook.count().where(
        (ProviderBook.kind == "refund") & (ProviderBook.order_code == refund["order.code"])
    )
    return ours, theirs


async def test_provider_refund_is_async_idempotent_and_failures_are_queued(live_server, monkeypatch):  # noqa: F811
    ids = await sales_catalog()
    sandbox = provider("sandbox")
    code, reference = await _online_order(ids, ids["vip_seats"][0])
    failing, _ = await _online_order(ids, ids["vip_seats"][1], provider_took_it=False)
    late, _ = await _online_order(ids, ids["vip_seats"][2])

    # The provider is out of reach: the refund is approved, its codes void, and it waits (never lost).
    unsent = await customer_refund(ADMIN_ACTOR, late)
    assert unsent.status == APPROVED and await SandboxRefund.count() == 0

    monkeypatch.setenv("SANDBOX_PROVIDER_URL", live_server)
    # Success: "processing" first, the outcome by the sandbox's signed callback, the money booked once.
    refund = await customer_refund(ADMIN_ACTOR, code)
    assert refund.status == APPROVED
    assert await _status(refund.number) == DONE
    assert await _refunds_booked(refund.number) == (1, 1)
    [row] = await SandboxRefund.select().where(SandboxRefund.number == refund.number)
    assert (row["status"], row["amount_fen"], row["reference"]) == ("succeeded", refund.refund_fen, reference)
    entry = await LedgerEntry.select().where(LedgerEntry.kind == "refund").first()
    assert (entry["method"], entry["amount_fen"], entry["reference"]) == ("sandbox", -refund.refund_fen, reference)

    async with httpx.AsyncClient(base_url=live_server) as client:
        # The same callback twice (a provider re-delivers): answered, recorded once.
        body, signature = sandbox.refund_callback_body(RefundAnswer(refund.number, "succeeded"))
        for _ in range(2):
            again = await client.post(
                "/api/payments/sandbox/refund-callback", content=body, headers={"X-Sandbox-Signature": signature}
            )
            assert again.status_code == 200 and again.json() == {"number": refund.number, "status": DONE}
        forged = await client.post(
            "/api/payments/sandbox/refund-callback",
            content=sandbox.refund_callback_body(RefundAnswer(refund.number, "failed"))[0],
            headers={"X-Sandbox-Signature": "0" * 64},
        )
        assert forged.status_code == 422 and forged.headers["content-type"].startswith("application/problem+json")
        # A used number with another amount is refused by the provider, not refunded again.
        body, signature = sandbox.refund_request(refund.number, reference, code, refund.refund_fen + 1)
        reused = await client.post("/pay/sandbox/refunds", content=body, headers={"X-Sandbox-Signature": signature})
        assert reused.status_code == 409
        unsigned = await client.post("/pay/sandbox/refunds", content=body, headers={"X-Sandbox-Signature": "x"})
        assert unsigned.status_code == 404
    # Asking again under the same number answers the same refund: nothing is refunded twice.
    answer = await sandbox.request_refund(refund.number, reference, code, refund.refund_fen)
    assert answer.status == "succeeded"
    assert await SandboxRefund.count() == 1 and await _refunds_booked(refund.number) == (1, 1)
    assert await _status(refund.number) == DONE

    # Failure: the provider's books do not have that payment -> failed, in the manual queue, no money booked.
    refused = await customer_refund(ADMIN_ACTOR, failing)
    assert await _status(refused.number) == FAILED
    [queued] = [r for r in await queue(FAILED) if r["number"] == refused.number]
    assert "no such payment" in queued["failure"]
    assert await _refunds_booked(refused.number) == (0, 0)

    # The refund the provider never heard of is asked for again, under its number, by the periodic job.
    await ask_provider_again(now=utc(hours=1))
    assert await _status(unsent.number) == DONE
    assert await _refunds_booked(unsent.number) == (1, 1)
    assert await SandboxRefund.count() == 3
