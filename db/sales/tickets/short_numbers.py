"""The short ticket number: 11 digits a person can read off a cracked screen and type at a gate.

    body   10 digits   a keyed permutation of the ticket id (a Feistel network over 10^10 values)
    check   1 digit    Damm check digit over the body: any single mistyped digit and any swap of two
                       neighbouring digits is caught before the server is asked

The permutation's key is derived from the center's ticket signing key, which never leaves the center: the
number of one ticket says nothing about the numbers of the others, and since the ids of all tickets are
distinct their numbers are too (no collision, no retry). A guess hits one of a 50,000-seat session's tickets
with a chance of 5 in a million (and the gate limits typing per device, db/gate/redeem.py). The number is
stored on the ticket (ticket.short_code, unique) where the gates look it up, and printed in groups of 3-4-4
like a phone number ("123 4567 8901")."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from db.sales.tickets.codes import keyring

BODY_DIGITS = 10
LENGTH = BODY_DIGITS + 1
_HALF = 10**5  # the two halves of the body
_ROUNDS = 10
# Damm's quasigroup of order 10 (weakly totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_SEPARATORS = re.compile(r"[\s\-·.]")


def damm(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits; a string ending in its check digit gives 0."""
    interim = 0
    for d in digits:
        interim = _DAMM[interim][ord(d) - 48]
    return interim


@cache
def _key() -> bytes:
    private = keyring().private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return hmac.new(private, b"ticket-center short ticket number v1", hashlib.sha256).digest()


def _round(key: bytes, i: int, half: int) -> int:
    digest = hmac.new(key, bytes((i,)) + half.to_bytes(4, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % _HALF


def permute(value: int, key: bytes | None = None) -> int:
    """A bijection of [0, 10^10) keyed by the center's secret."""
    if not 0 <= value < _HALF * _HALF:
        raise ValueError("the value must have at most 10 digits")
    key = key or _key()
    left, right = divmod(value, _HALF)
    for i in range(_ROUNDS):
        left, right = right, (left + _round(key, i, right)) % _HALF
    return left * _HALF + right


def number_for(ticket_id: int, key: bytes | None = None) -> str:
    """The short number of a ticket: 11 digits, the last one the check digit."""
    body = f"{permute(ticket_id, key):0{BODY_DIGITS}d}"
    return body + str(damm(body))


def normalise(text: str) -> str | None:
    """The digits of a typed short number (spaces, hyphens and dots removed) when it looks like one (11 ASCII
    digits), else None: the text is then treated as a QR code."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    digits = _SEPARATORS.sub("", text)
    return digits if len(digits) == LENGTH and digits.isascii() and digits.isdigit() else None


def check_digit_ok(digits: str) -> bool:
    return damm(digits) == 0


def grouped(number: str | None) -> str:
    """The number as printed: "123 4567 8901" ('' for a ticket without one)."""
    if not number:
        return ""
    return f"{number[:3]} {number[3:7]} {number[7:]}"


async def fill_missing(batch: int = 500) -> int:
    """Give every ticket without a short number its number (the migration for tickets issued before numbers
    existed); returns how many. One UPDATE per `batch` tickets."""
    from db.sales.tables import Ticket

    done = 0
    while True:
        rows = await Ticket.raw(f"SELECT id FROM ticket WHERE short_code IS NULL ORDER BY id LIMIT {int(batch)}")
        if not rows:
            return done
        cases = " ".join("WHEN {} THEN {}" for _ in rows)
        ids = ", ".join("{}" for _ in rows)
        values = [v for r in rows for v in (r["id"], number_for(r["id"]))]
        await Ticket.raw(
            f"UPDATE ticket SET short_code = CASE id {cases} END WHERE id IN ({ids})", *values, *(r["id"] for r in rows)
        )
        done += len(rows)
