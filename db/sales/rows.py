"""The rows a sale writes, one definition each (db/core/rows.py): the careful ORM path (ordering/orders.py,
payments/operations.py, tickets/issuing.py, history.py) and the PostgreSQL on-sale fast path
(ordering/rush.py) build them with these functions and write the columns these shapes name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.core.actor import Actor
from db.core.rows import Shape
from db.sales.tables import Order, OrderEvent, OrderItem, Payment, Ticket

ORDER = Shape(
    Order,
    columns=(
        "code",
        "session",
        "channel",
        "status",
        "buyer_name",
        "buyer_phone",
        "buyer_email",
        "buyer_id_masked",
        "total_fen",
        "subtotal_fen",
        "seller",
        "outlet",
        "partner",
        "idempotency_key",
        "needs_audit",
        "group_size",
        "group_percent_off",
        "created_at",
        "expires_at",
    ),
    defaulted=("paid_at", "audited_by", "audited_at", "reject_reason"),  # set by later steps
)
ORDER_ITEM = Shape(
    OrderItem,
    columns=(
        "order",
        "price_class",
        "seat",
        "quantity",
        "list_price_fen",
        "concession",
        "id_type",
        "id_masked",
        "unit_price_fen",
        "line_total_fen",
        "breakdown",
        "allocation",  # the stock allocation drawn from (db/inventory/allocations.py), None without allocations
    ),
)
ORDER_EVENT = Shape(OrderEvent, columns=("order", "at", "status", "actor_id", "actor_name", "note"))
# A settled payment (the window, a partner, or the fast path); an online payment starts pending with its reference.
PAID_PAYMENT = Shape(
    Payment,
    columns=(
        "order",
        "method",
        "amount_fen",
        "tendered_fen",
        "change_fen",
        "status",
        "outcome",
        "created_at",
        "confirmed_at",
        "confirmed_by",
    ),
    defaulted=("reference",),
)
TICKET = Shape(
    Ticket,
    columns=(
        "order",
        "session",
        "price_class",
        "seat",
        "price_fen",
        "concession",
        "status",
        "code",
        "short_code",  # the typeable number (db/sales/tickets/short_numbers.py)
        "issued_at",
        "policy_version",  # the refund/exchange rules in force at issue (db/sales/aftersale/policies.py)
    ),
    defaulted=("revoked_at",),  # set when a ticket is revoked
)
# A ticket takes these columns from its order line, on both paths.
TICKET_FROM_ITEM = {
    "order": "order",
    "price_class": "price_class",
    "seat": "seat",
    "price_fen": "unit_price_fen",
    "concession": "concession",
}


def item_row(
    order_id: int | None,
    *,
    price_class: int,
    seat: int | None,
    quantity: int,
    list_price_fen: int,
    concession: str,
    id_type: str,
    id_masked: str,
    unit_price_fen: int,
    breakdown: dict[str, Any],
    allocation: int | None = None,
) -> dict[str, Any]:
    return {
        "order": order_id,
        "price_class": price_class,
        "seat": seat,
        "quantity": quantity,
        "list_price_fen": list_price_fen,
        "concession": concession,
        "id_type": id_type,
        "id_masked": id_masked,
        "unit_price_fen": unit_price_fen,
        "line_total_fen": unit_price_fen * quantity,
        "breakdown": breakdown,
        "allocation": allocation,
    }


def event_row(order_id: int | None, status: str, actor: Actor, at: dt.datetime, note: str = "") -> dict[str, Any]:
    return {
        "order": order_id,
        "at": at,
        "status": status,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "note": note,
    }


def paid_payment_row(
    order_id: int | None,
    *,
    method: str,
    amount_fen: int,
    outcome: str,
    actor: Actor,
    now: dt.datetime,
    tendered_fen: int | None = None,
    change_fen: int | None = None,
) -> dict[str, Any]:
    return {
        "order": order_id,
        "method": method,
        "amount_fen": amount_fen,
        "tendered_fen": tendered_fen,
        "change_fen": change_fen,
        "status": "succeeded",
        "outcome": outcome,
        "created_at": now,
        "confirmed_at": now,
        "confirmed_by": actor.user_id,
    }
