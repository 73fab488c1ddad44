"""Online payment providers (R3.4 step 4): the interface, and the sandbox provider that works here.

A provider creates a payment for an order and a checkout the customer pays on, and later calls our
server-to-server callback with a signed body. The sandbox signs with HMAC-SHA256 using the secret from
SANDBOX_PAYMENT_SECRET or var/sandbox-payment.key (made on first use)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Protocol

from db.core.engine import secret
from db.core.errors import NotFound


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


class PaymentProvider(Protocol):
    name: str

    def checkout(self, order_code: str, amount_fen: int) -> Checkout: ...

    def parse_callback(self, body: bytes, signature: str) -> CallbackData | None:
        """The callback's data if its signature is genuine, else None."""

    def refund(self, reference: str, amount_fen: int) -> bool:
        """Send money back; True once the provider accepted the refund."""


def _secret() -> bytes:
    return secret("SANDBOX_PAYMENT_SECRET", "sandbox-payment.key").encode()


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


_providers: dict[str, PaymentProvider] = {}


def provider(name: str = "sandbox") -> PaymentProvider:
    if name != "sandbox":
        raise NotFound("No such payment provider.")
    if name not in _providers:
        _providers[name] = SandboxProvider()
    return _providers[name]
