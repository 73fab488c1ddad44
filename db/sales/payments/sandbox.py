"""The sandbox payment provider's own side of a refund (R5.3): what a real provider does behind its refund API.

- `accept_refund`: a merchant's signed request (db/sales/payments/providers.py SandboxProvider.request_refund)
  is recorded under the merchant's refund number and answered "processing"; the same number again answers the
  same refund (a different amount or payment under a used number is refused).
- `settle`: later (the web endpoint schedules it after its answer; the periodic job picks up any left behind)
  the refund succeeds if the payment is in the sandbox's books and not refunded beyond what was paid, else it
  fails with the reason. A success is booked in the sandbox's books (its daily statement) in the same step.
- `deliver`: the outcome is posted, signed, to the merchant's notify URL until the merchant answers 2xx.

Everything here is the provider's, not ours: our refunds learn the outcome only through the callback (or by
asking again with the same number)."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from dataclasses import dataclass

import httpx

from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance.reconciliation import provider_books
from db.finance.tables import ProviderBook
from db.sales.payments.providers import (
    REFUND_FAILED,
    REFUND_PROCESSING,
    REFUND_SUCCEEDED,
    RefundAnswer,
    SandboxProvider,
    provider,
)
from db.sales.tables import SandboxRefund

log = logging.getLogger("ticketcenter.sandbox")
NOTIFY_TIMEOUT = 10.0
BATCH = 100
NOTIFY_FOR = dt.timedelta(days=1)  # how long the sandbox keeps posting an outcome the merchant does not take


@dataclass(frozen=True, slots=True)
class _Request:
    number: str
    reference: str
    order_code: str
    amount_fen: int
    notify_url: str


def _sandbox() -> SandboxProvider:
    sandbox = provider("sandbox")
    assert isinstance(sandbox, SandboxProvider)
    return sandbox


def _parse(body: bytes, signature: str) -> _Request:
    if not hmac.compare_digest(_sandbox().sign(body), signature or ""):
        raise NotFound("No such merchant.")
    try:
        data = json.loads(body)
        request = _Request(
            str(data["number"]),
            str(data["reference"]),
            str(data.get("order_code") or ""),
            int(data["amount_fen"]),
            str(data.get("notify_url") or ""),
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("A refund request needs number, reference and amount_fen.") from None
    if not (1 <= len(request.number) <= 24) or not (1 <= len(request.reference) <= 64):
        raise InvalidInput("A refund number has 1 to 24 characters, a payment reference 1 to 64.")
    if not (0 < request.amount_fen <= 10**10):
        raise InvalidInput("A refund amount is a positive number of fen.", field="amount_fen")
    if len(request.order_code) > 40 or len(request.notify_url) > 300:
        raise InvalidInput("The order code or the notify URL is too long.")
    if not request.notify_url.startswith(("http://", "https://")):
        raise InvalidInput("The notify URL is an http(s) address.", field="notify_url")
    return request


def _answer(row: dict) -> RefundAnswer:
    return RefundAnswer(row["number"], row["status"], row["failure"])


async def accept_refund(body: bytes, signature: str, now: dt.datetime | None = None) -> tuple[RefundAnswer, bool]:
    """Record a merchant's refund request: (its answer, True if this request created it). A forged signature is
    NotFound; the same number again answers the same refund; a used number with another payment or amount is a
    Conflict."""
    request = _parse(body, signature)
    async with queued_write(SandboxRefund._meta.db):
        created = bool(
            await SandboxRefund.insert(
                SandboxRefund(
                    number=request.number,
                    reference=request.reference,
                    order_code=request.order_code,
                    amount_fen=request.amount_fen,
                    notify_url=request.notify_url,
                    status=REFUND_PROCESSING,
                    requested_at=now or utcnow(),
                )
            )
            .on_conflict(target=SandboxRefund.number, action="DO NOTHING")
            .returning(SandboxRefund.id)
        )
        row = await SandboxRefund.select().where(SandboxRefund.number == request.number).first()
    if (row["reference"], row["amount_fen"]) != (request.reference, request.amount_fen):
        raise Conflict("Refund number {number} was used for another refund.", number=request.number)
    return _answer(row), created


async def _refundable(reference: str) -> int:
    """What the sandbox's books still allow to refund on a payment (0: no such payment)."""
    books = await ProviderBook.select(ProviderBook.kind, ProviderBook.amount_fen).where(
        (ProviderBook.provider == "sandbox") & (ProviderBook.reference == reference)
    )
    paid = sum(b["amount_fen"] for b in books if b["kind"] == "payment")
    back = sum(b["amount_fen"] for b in books if b["kind"] == "refund")
    return paid - back


async def settle(number: str, now: dt.datetime | None = None) -> RefundAnswer | None:
    """Decide a processing refund (once: a conditional UPDATE), booking a success; None if it was decided."""
    now = now or utcnow()
    async with queued_write(SandboxRefund._meta.db):
        row = await SandboxRefund.select().where(SandboxRefund.number == number).first()
        if row is None or row["status"] != REFUND_PROCESSING:
            return None
        left = await _refundable(row["reference"])
        if left <= 0:
            status, failure = REFUND_FAILED, "no such payment, or it is refunded already"
        elif row["amount_fen"] > left:
            status, failure = REFUND_FAILED, f"only {left} fen of the payment are left to refund"
        else:
            status, failure = REFUND_SUCCEEDED, ""
        won = (
            await SandboxRefund.update(
                {SandboxRefund.status: status, SandboxRefund.failure: failure, SandboxRefund.settled_at: now}
            )
            .where((SandboxRefund.id == row["id"]) & (SandboxRefund.status == REFUND_PROCESSING))
            .returning(SandboxRefund.id)
        )
        if not won:
            return None
        if status == REFUND_SUCCEEDED:
            await provider_books("refund", row["reference"], row["order_code"], row["amount_fen"], now)
    return RefundAnswer(number, status, failure)


async def deliver(number: str, now: dt.datetime | None = None) -> bool:
    """Post a settled refund's outcome to the merchant; True once the merchant has received it."""
    row = await SandboxRefund.select().where(SandboxRefund.number == number).first()
    if row is None or row["status"] == REFUND_PROCESSING or row["notified_at"] is not None:
        return False
    body, signature = _sandbox().refund_callback_body(_answer(row))
    try:
        async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT) as client:
            answer = await client.post(
                row["notify_url"],
                content=body,
                headers={"content-type": "application/json", "x-sandbox-signature": signature},
            )
    except httpx.HTTPError as exc:
        log.warning("refund %s: the merchant's callback failed (%s); tried again later", number, type(exc).__name__)
        return False
    if not answer.is_success:
        log.warning("refund %s: the merchant answered %s; tried again later", number, answer.status_code)
        return False
    async with queued_write(SandboxRefund._meta.db):
        await SandboxRefund.update({SandboxRefund.notified_at: now or utcnow()}).where(
            (SandboxRefund.number == number) & SandboxRefund.notified_at.is_null()
        )
    return True


async def settle_and_deliver(number: str) -> None:
    """What the sandbox does after answering a refund request "processing"."""
    await settle(number)
    await deliver(number)


async def run_due() -> int:
    """The periodic job: settle what is still processing and deliver what the merchant has not received (for a
    day)."""
    rows = (
        await SandboxRefund.select(SandboxRefund.number)
        .where(SandboxRefund.notified_at.is_null() & (SandboxRefund.requested_at >= utcnow() - NOTIFY_FOR))
        .order_by(SandboxRefund.id)
        .limit(BATCH)
    )
    delivered = 0
    for r in rows:
        await settle(r["number"])
        delivered += await deliver(r["number"])
    return delivered
