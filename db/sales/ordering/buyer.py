"""Buyer details as entered: checked against what the sale needs (db/sales/policy.py, per event kind and
channel), normalised, and ID numbers masked before anything stores them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.core.errors import InvalidInput, Refusals
from db.core.text import one_line

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The buyer details a sale may ask for (R1.1), in the order forms show them.
BUYER_DETAILS = ("name", "phone", "email", "id")
# A kind and channel whose policy was never changed asks for name and phone, the shop also for the e-mail.
DEFAULT_BUYER_DETAILS = frozenset({"name", "phone"})
SHOP_DEFAULT_BUYER_DETAILS = frozenset({"name", "phone", "email"})
ID_TYPES = ("id_card", "student_card", "military_card", "disability_card", "senior_card", "passport", "other")


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str = ""
    phone: str = ""
    email: str = ""
    id_number: str = ""  # optional; only its masked form is stored


def mask_id(number: str) -> str:
    """Keep the first 4 and last 4 characters: 110101199003071234 -> 1101**********1234."""
    number = re.sub(r"\s", "", number)
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1) if number else ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def clean_buyer(buyer: Buyer, needed: frozenset[str] = DEFAULT_BUYER_DETAILS) -> Buyer:
    """The buyer with every detail the sale `needed` given and every detail given well formed; all refusals at
    once. A detail the sale does not need may still be given (an e-mail for the e-ticket)."""
    name, phone, email = buyer.name.strip(), buyer.phone.strip(), buyer.email.strip()
    id_number = buyer.id_number.strip()
    refusals = Refusals()
    if ("name" in needed and not name) or len(name) > 100:
        refusals.refuse("Enter the buyer's name (up to 100 characters).", field="buyer.name")
    with refusals.collect():
        one_line(name, "buyer.name")
    if ("phone" in needed or phone) and not _PHONE.match(phone):
        refusals.refuse("Enter the buyer's phone number (digits only, 6 to 20).", field="buyer.phone")
    if "email" in needed and not email:
        refusals.refuse("Enter the e-mail address: the e-tickets are sent there.", field="buyer.email")
    elif email and (len(email) > 200 or not _EMAIL.match(email)):
        refusals.refuse("The e-mail address is not valid.", field="buyer.email")
    if "id" in needed and not id_number:
        refusals.refuse("Enter the buyer's ID number.", field="buyer.id_number")
    elif id_number and not re.fullmatch(r"[0-9A-Za-z]{6,30}", id_number):
        refusals.refuse("The ID number must be 6 to 30 letters or digits.", field="buyer.id_number")
    refusals.raise_any()
    return Buyer(name, phone, email, id_number)


def clean_id_check(id_type: str, id_number: str) -> tuple[str, str]:
    """The checked ID of a concession line: its type and masked number."""
    id_number = re.sub(r"\s", "", id_number or "")
    if id_type not in ID_TYPES:
        raise InvalidInput("Choose the type of ID you checked.", field="id_type")
    if not re.fullmatch(r"[0-9A-Za-z]{4,30}", id_number):
        raise InvalidInput(
            "Record the number of the ID you checked before the concession price applies.", field="id_number"
        )
    return id_type, mask_id(id_number)
