"""Showing one customer field in full (R6.3): needs the permission and a stated purpose, and leaves a row in
the reveal log (who, when, which customer, which field, why) and an audit record, in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.engine import reports_node
from db.core.errors import InvalidInput, NotFound, PermissionDenied
from db.core.transaction import write_transaction
from db.privacy.masking import FIELDS
from db.privacy.tables import Reveal
from db.sales.tables import Order
from db.staff.permissions import Permission, role_allows

PURPOSE_MIN, PURPOSE_MAX = 4, 200
_COLUMNS = {"phone": Order.buyer_phone, "email": Order.buyer_email}


@dataclass(frozen=True, slots=True)
class Revealed:
    order_code: str
    field: str
    value: str


def clean_purpose(purpose: str) -> str:
    purpose = " ".join((purpose or "").split())
    if len(purpose) < PURPOSE_MIN:
        raise InvalidInput("State why you need to see this (at least 4 characters).", field="purpose")
    if len(purpose) > PURPOSE_MAX:
        raise InvalidInput("Keep the purpose under 200 characters.", field="purpose")
    return purpose


async def reveal(actor: Actor, order_code: str, field: str, purpose: str, now: dt.datetime | None = None) -> Revealed:
    """The buyer's `field` ("phone" or "email") of an order in full; logged with the purpose."""
    if not role_allows(actor.role, Permission.CUSTOMER_DATA_REVEAL):
        raise PermissionDenied("Your role may not see customer data in full.")
    if field not in FIELDS:
        raise InvalidInput("Only the phone number or the e-mail address can be shown.", field="field")
    purpose = clean_purpose(purpose)
    code = order_code.strip().upper()
    now = now or dt.datetime.now(dt.UTC)
    async with write_transaction(Order._meta.db):
        row = await Order.select(Order.buyer_name, _COLUMNS[field]).where(Order.code == code).first()
        if row is None:
            raise NotFound("No such order.")
        await Reveal.insert(
            Reveal(
                at=now,
                staff_id=actor.user_id,
                staff_name=actor.name,
                staff_role=actor.role,
                order_code=code,
                customer=row["buyer_name"],
                field=field,
                purpose=purpose,
            )
        ).run()
        await record(actor, "customer.reveal", "order", code, summary=f"{field}: {purpose}")
    return Revealed(code, field, row[_COLUMNS[field]._meta.name])


async def reveal_log(*, staff: str | None = None, since: dt.datetime | None = None, limit: int = 200) -> list[dict]:
    """The reveal log, newest first; `staff` a part of the staff member's name."""
    query = Reveal.select().order_by(Reveal.id, ascending=False).limit(limit)
    if staff:
        query = query.where(Reveal.staff_name.like(f"%{staff}%"))
    if since:
        query = query.where(Reveal.at >= since)
    return await query.run(node=reports_node())


async def staff_who_revealed() -> list[str]:
    rows = await Reveal.select(Reveal.staff_name).distinct().order_by(Reveal.staff_name)
    return [r["staff_name"] for r in rows]
