"""Online payment providers (R3.4 step 4): the interface, and the sandbox provider that works here.

A provider creates a payment for an order and a checkout the customer pays on, and later calls our
server-to-server callback with a signed body. The sandbox signs with HMAC-SHA256 using the secret from
SANDBOX_PAYMENT_SECRET or var/sandbox-payment.key (made on first use).

A refund (R5.3) is a real HTTP request to the provider (`SANDBOX_PROVIDER_URL`, default this server), idempotent
by our refund number: the provider answers "processing" and later posts the outcome, signed, to our refund
callback (`PAYMENT_NOTIFY_URL`, default the provider's URL: the sandbox lives in this server); asking again with
the same number answers the same refund (that is also how we poll it). The provider's side is
db/sales/payments/sandbox.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from typing import Protocol

import httpx

from db.core.engine import secret
from db.core.errors import NotFound

REFUND_PROCESSING = "processing"
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"
REFUND_STATUSES = (REFUND_PROCESSING, REFUND_SUCCEEDED, REFUND_FAILED)
REFUND_TIMEOUT = 10.0  # seconds for the provider to answer a refund request


@dataclass(frozen=True, slots=True)
class Checkout:
    reference: str  # the provider's payment id
    url: str  # where the customer pays


@dataclass(frozen=True, slots=True)
class CallbackData:
    reference: str
    order_code: str
    amount_fen: int
    succeeded: bool


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    """The provider's word on a refund: processing (the outcome comes later), succeeded or failed (why)."""

    number: str  # our refund number
    status: str  # one of REFUND_STATUSES
    failure: str = ""


class PaymentProvider(Protocol):
    name: str

    def checkout(self, order_code: str, amount_fen: int) -> Checkout: ...

    def parse_callback(self, body: bytes, signature: str) -> CallbackData | None:
        """The callback's data if its signature is genuine, else None."""

    def refund(self, reference: str, amount_fen: int) -> bool:
        """Send money back at once; True once the provider accepted the refund (late payments, exchange
        pay-backs)."""

    async def request_refund(self, number: str, reference: str, order_code: str, amount_fen: int) -> RefundAnswer:
        """Ask the provider over HTTP to refund `amount_fen` of the payment `reference` under our refund number;
        the same number again answers the same refund. Raises httpx.HTTPError when the provider is unreachable
        or refuses the request itself."""

    def parse_refund_callback(self, body: bytes, signature: str) -> RefundAnswer | None:
        """The refund outcome's data if its signature is genuine, else None."""


def _secret() -> bytes:
    return secret("SANDBOX_PAYMENT_SECRET", "sandbox-payment.key").encode()


def provider_url() -> str:
    """Where the sandbox provider answers (its refunds and statements); by default this server."""
    return os.environ.get("SANDBOX_PROVIDER_URL", "http://127.0.0.1:8000").rstrip("/")


def refund_notify_url(provider_name: str) -> str:
    """Our callback the provider posts a refund's outcome to."""
    base = os.environ.get("PAYMENT_NOTIFY_URL", provider_url()).rstrip("/")
    return f"{base}/api/payments/{provider_name}/refund-callback"


def _body(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _answer(data: dict) -> RefundAnswer | None:
    try:
        status = str(data["status"])
        if status not in REFUND_STATUSES:
            return None
        return RefundAnswer(str(data["number"]), status, str(data.get("failure") or "")[:500])
    except (KeyError, TypeError):
        return None


class SandboxProvider:
    """A payment provider that lives in this server: its checkout page is /pay/sandbox/<reference>."""

    name = "sandbox"

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or _secret()

    def checkout(self, order_code: str, amount_fen: int) -> Checkout:
        reference = "SBX" + secrets.token_hex(12).upper()
        return Checkout(reference, f"/pay/sandbox/{reference}")

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def callback_body(
        self, reference: str, order_code: str, amount_fen: int, succeeded: bool = True
    ) -> tuple[bytes, str]:
        """What the sandbox sends to our callback when the customer has paid: (body, signature)."""
        body = json.dumps(
            {
                "reference": reference,
                "order_code": order_code,
                "amount_fen": amount_fen,
                "status": "succeeded" if succeeded else "failed",
            },
            separators=(",", ":"),
        ).encode()
        return body, self.sign(body)

    def parse_callback(self, body: bytes, signature: str) -> CallbackData | None:
        if not hmac.compare_digest(self.sign(body), signature or ""):
            return None
        try:
            data = json.loads(body)
            return CallbackData(
                str(data["reference"]), str(data["order_code"]), int(data["amount_fen"]), data["status"] == "succeeded"
            )
        except (ValueError, KeyError, TypeError):
            return None

    def refund(self, reference: str, amount_fen: int) -> bool:
        return True  # the sandbox refunds at once

    def refund_request(self, number: str, reference: str, order_code: str, amount_fen: int) -> tuple[bytes, str]:
        """The signed body of a refund request: (body, signature)."""
        body = _body(
            {
                "number": number,
                "reference": reference,
                "order_code": order_code,
                "amount_fen": amount_fen,
                "notify_url": refund_notify_url(self.name),
            }
        )
        return body, self.sign(body)

    async def request_refund(self, number: str, reference: str, order_code: str, amount_fen: int) -> RefundAnswer:
        body, signature = self.refund_request(number, reference, order_code, amount_fen)
        async with httpx.AsyncClient(timeout=REFUND_TIMEOUT) as client:
            answer = await client.post(
                f"{provider_url()}/pay/sandbox/refunds",
                content=body,
                headers={"content-type": "application/json", "x-sandbox-signature": signature},
            )
        answer.raise_for_status()
        is_json = answer.headers.get("content-type", "").startswith("application/json")
        parsed = _answer(answer.json()) if is_json else None
        if parsed is None or parsed.number != number:
            raise httpx.HTTPError(f"unexpected answer from the provider: {answer.text[:200]}")
        return parsed

    def refund_callback_body(self, answer: RefundAnswer) -> tuple[bytes, str]:
        """What the sandbox posts to the merchant when a refund is settled: (body, signature)."""
        body = _body({"number": answer.number, "status": answer.status, "failure": answer.failure})
        return body, self.sign(body)

    def parse_refund_callback(self, body: bytes, signature: str) -> RefundAnswer | None:
        if not hmac.compare_digest(self.sign(body), signature or ""):
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return _answer(data) if isinstance(data, dict) else None


_providers: dict[str, PaymentProvider] = {}


def provider(name: str = "sandbox") -> PaymentProvider:
    if name != "sandbox":
        raise NotFound("No such payment provider.")
    if name not in _providers:
        _providers[name] = SandboxProvider()
    return _providers[name]
