"""Customer data at the box office (R6.3): buyer details are shown only on request, and every use of
them (opening an order's buyer details, searching orders by phone) leaves a "customer.*" audit record.

The web guard decides WHO may (Permission.CUSTOMER_DATA_VIEW); these functions make each use visible."""

from __future__ import annotations

import re

from db.audit.record import record
from db.core.actor import Actor
from db.core.errors import InvalidInput, NotFound
from db.core.transaction import write_transaction
from db.privacy.masking import mask_email, mask_phone
from db.sales.queries import search_orders
from db.sales.tables import Order

MAX_PHONE_RESULTS = 50


async def buyer_details(actor: Actor, code: str) -> dict:
    """The buyer of an order (name; phone, e-mail and ID number masked); records "customer.view"."""
    code = code.strip().upper()
    row = (
        await Order.select(Order.code, Order.buyer_name, Order.buyer_phone, Order.buyer_email, Order.buyer_id_masked)
        .where(Order.code == code)
        .first()
    )
    if row is None:
        raise NotFound("No such order.")
    await log_customer_view(actor, [code], "buyer details opened")
    # masked by default (R6.3): the full value needs a reveal with a purpose (db/privacy/reveals.py)
    return {**row, "buyer_phone": mask_phone(row["buyer_phone"]), "buyer_email": mask_email(row["buyer_email"])}


async def log_customer_view(actor: Actor, codes: list[str], summary: str) -> None:
    """Record that `actor` was shown the buyer data of these orders (one "customer.view" record each)."""
    async with write_transaction(Order._meta.db):
        for code in codes:
            await record(actor, "customer.view", "order", code, summary=summary)


async def orders_for_phone(actor: Actor, phone: str, status: str | None = None) -> list[dict]:
    """Orders whose buyer has this phone number, newest first (search_orders rows); records "customer.search"
    (the number itself is not written to the record)."""
    phone = re.sub(r"[\s-]", "", phone)
    if not re.fullmatch(r"\+?[0-9]{6,20}", phone):
        raise InvalidInput("Enter the buyer's phone number (digits only, 6 to 20).", field="phone")
    rows = (
        await Order.select(Order.code, Order.buyer_phone)
        .where(Order.buyer_phone.like(f"%{phone[-6:]}"))
        .order_by(Order.id, ascending=False)
    )
    codes = [r["code"] for r in rows if re.sub(r"[\s-]", "", r["buyer_phone"]) == phone][:MAX_PHONE_RESULTS]
    async with write_transaction(Order._meta.db):
        await record(
            actor, "customer.search", "order", "", summary="orders searched by phone", after={"found": len(codes)}
        )
    found = [row for code in codes for row in await search_orders(code=code, status=status)]
    return found
