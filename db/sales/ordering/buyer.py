"""Buyer details as entered: checked, normalised, and ID numbers masked before anything stores them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.core.errors import InvalidInput
from db.core.text import one_line

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_TYPES = ("id_card", "student_card", "military_card", "disability_card", "senior_card", "passport", "other")


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str
    phone: str
    email: str = ""
    id_number: str = ""  # optional; only its masked form is stored


def mask_id(number: str) -> str:
    """Keep the first 4 and last 4 characters: 110101199003071234 -> 1101**********1234."""
    number = re.sub(r"\s", "", number)
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1) if number else ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def clean_buyer(buyer: Buyer) -> Buyer:
    name, phone, email = buyer.name.strip(), buyer.phone.strip(), buyer.email.strip()
    if not name or len(name) > 100:
        raise InvalidInput("Enter the buyer's name (up to 100 characters).", field="buyer.name")
    one_line(name, "buyer.name")
    if not _PHONE.match(phone):
        raise InvalidInput("Enter the buyer's phone number (digits only, 6 to 20).", field="buyer.phone")
    if email and (len(email) > 200 or not _EMAIL.match(email)):
        raise InvalidInput("The e-mail address is not valid.", field="buyer.email")
    id_number = buyer.id_number.strip()
    if id_number and not re.fullmatch(r"[0-9A-Za-z]{6,30}", id_number):
        raise InvalidInput("The ID number must be 6 to 30 letters or digits.", field="buyer.id_number")
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
