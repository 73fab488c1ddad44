"""Customers find their own order (R6.2): order code plus the phone number or e-mail used to buy.

A wrong combination and an unknown code get the same error after the same work (one query, one
constant-time comparison, one audit entry), so answers never tell whether an order exists. Attempts are
rate-limited per client and per order code (db.core.throttle); a successful lookup is logged as a
use of the customer's data (R6.3)."""

from __future__ import annotations

import hmac
import re

from db.audit.record import record
from db.core.actor import Actor
from db.core.errors import InvalidInput
from db.core.throttle import LOOKUP_ATTEMPT, LOOKUPS_PER_CLIENT, LOOKUPS_PER_CODE, attempt
from db.sales.tables import Order

_NOT_AN_ORDER = "\x00"  # compared against when no order has the code: never equal to typed input


def normalize_code(code: str) -> str:
    """Order codes are typed in any case, with spaces or dashes: ab-cd 23 -> ABCD23."""
    return re.sub(r"[\s-]", "", code or "").upper()[:16]


def _phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _contact_key(contact: str) -> tuple[str, str]:
    """(kind, normalised value) of what the customer typed: an e-mail or a phone number."""
    contact = contact.strip()
    return ("email", contact.lower()) if "@" in contact else ("phone", _phone_digits(contact))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def find_order(client: str, code: str, contact: str) -> str:
    """The order's code when `contact` is the phone or e-mail of its buyer; else InvalidInput (422, the same
    message whether or not the code exists). TooManyRequests (429) over the rate limits."""
    code = normalize_code(code)
    kind, value = _contact_key(contact)
    if not code or len(value) < 3:
        raise InvalidInput("Enter the order code and the phone number or e-mail you used.", field="contact")
    await attempt(client, LOOKUP_ATTEMPT, LOOKUPS_PER_CLIENT, code, LOOKUPS_PER_CODE)
    row = await Order.select(Order.buyer_phone, Order.buyer_email).where(Order.code == code).first()
    stored = (row or {}).get("buyer_email" if kind == "email" else "buyer_phone") or _NOT_AN_ORDER
    stored = stored.strip().lower() if kind == "email" else _phone_digits(stored) or _NOT_AN_ORDER
    if not _same(stored, value):
        raise InvalidInput(
            "No order matches this order code and phone number or e-mail. Check both and try again.", field="contact"
        )
    await record(Actor.customer(client), "shop.lookup", "order", code)
    return code
