"""What the sales screens share beyond web/forms.py: amounts typed in yuan, and the names of concession kinds."""

from __future__ import annotations

from typing import Any

from db.catalog.pricing import yuan_to_fen
from db.core.errors import InvalidInput
from db.sales.policy import concession_kinds
from web.forms import field_text


def fen_from_yuan(data: dict[str, Any], name: str, required_message: str) -> int:
    value = field_text(data, name)
    if not value:
        raise InvalidInput(required_message, field=name)
    return yuan_to_fen(value, field=name)


async def concession_names() -> dict[str, dict]:
    """Every concession kind (also inactive ones, which old orders may carry) by code, for naming them."""
    return {k["code"]: k for k in await concession_kinds(active_only=False)}
