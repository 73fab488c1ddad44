"""The shop's forms as the sales operations take them: quantities, seats, the buyer and a concession (field
values, numbers, errors and redirects: web/forms.py)."""

from __future__ import annotations

from typing import Any

from db.sales.channels.shop import ConcessionChoice
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER
from web.forms import field_text, form_number, id_suffixes, ids, listed


def count(data: dict[str, Any], name: str) -> int:
    return form_number(data, name, maximum=MAX_TICKETS_PER_ORDER)


def seat_ids(data: dict[str, Any]) -> list[int]:
    return ids(listed(data, "seat_id"), "seat_id")


def quantities(data: dict[str, Any]) -> dict[int, int]:
    return {pc: count(data, name) for pc, name in id_suffixes(data, "qty_").items()}


def buyer(data: dict[str, Any]) -> Buyer:
    return Buyer(
        field_text(data, "name"), field_text(data, "phone"), field_text(data, "email"), field_text(data, "id_card")
    )


def concession(data: dict[str, Any]) -> ConcessionChoice | None:
    kind = field_text(data, "concession")
    if not kind:
        return None
    return ConcessionChoice(
        kind, count(data, "concession_count"), field_text(data, "id_type"), field_text(data, "id_number")
    )
