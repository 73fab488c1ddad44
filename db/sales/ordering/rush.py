"""The on-sale hot path on PostgreSQL (R1.2, R1.3): a general-admission order placed in ONE statement, and
its payment with every ticket issued in one read and ONE write.

An on-sale rush is thousands of buyers asking for tickets of one price class. The careful path
(db/sales/ordering/orders.py, db/sales/payments/operations.py) runs a transaction of six to eight ORM
statements per step;
here each step is a single data-modifying statement (PostgreSQL has no SQLite equivalent), atomic without
BEGIN/COMMIT, sent on a pooled connection directly (db/core/pg.py):

- placing: the conditional stock UPDATEs of the line's allocation and of its class (`available >= n`, so no
  oversell) and, only when they took the tickets, the order, its line, its status event and the audit entry;
- paying: a read of the order's lines that also reserves the tickets' ids (the QR signature covers the
  id), then the conditional move to `paid` and, only when it won, the status event, the payment, the
  tickets with their signed codes and the audit entry.

The callers decide when this applies (one general-admission line; a payable, unexpired order without
seats) and fall back to the careful path otherwise, or when this path did not win. Both paths write the
same rows: built by the same functions and written to the columns of the same shapes (db/sales/rows.py,
db/audit/record.py AUDIT, db/finance/ledger.py LEDGER), from which the statements below are generated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from piccolo.utils.encoding import dump_json

from db.audit.record import AUDIT, entry
from db.core import pg
from db.core.actor import Actor
from db.finance import ledger
from db.finance.ledger import LEDGER
from db.sales.aftersale.policies import IN_FORCE_FOR_SESSION_SQL
from db.sales.rows import (
    ORDER,
    ORDER_EVENT,
    ORDER_ITEM,
    PAID_PAYMENT,
    TICKET,
    TICKET_FROM_ITEM,
    event_row,
    paid_payment_row,
)
from db.sales.status import PAID, PAYABLE, TICKET_ISSUED
from db.sales.tables import Order
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import number_for

_BY_ORDER = {"order": "id"}  # the order's id, from the statement's first step

# The line's allocation (db/inventory/allocations.py; NULL when the class has none) is taken before the class's
# count, as on the careful path. Once a class has allocations its count is the sum of theirs, so the class
# row never refuses what the allocation gave; should it ever (an allocation made while this sale was under
# way), `out_of_step` divides by zero and the whole statement is undone.
PLACE_SQL = f"""
WITH share AS (
    UPDATE stock_allocation SET available = available - {{}}::int
    WHERE id = {{}}::int AND available >= {{}}::int RETURNING id
), stock AS (
    UPDATE price_class SET available = available - {{}}::int
    WHERE id = {{}}::int AND available >= {{}}::int AND ({{}}::int IS NULL OR EXISTS (SELECT 1 FROM share))
    RETURNING id
), new_order AS (
    {ORDER.insert(source="stock", cast=True)} RETURNING id
), line AS (
    {ORDER_ITEM.insert(source="new_order", linked=_BY_ORDER, cast=True)}
), event AS (
    {ORDER_EVENT.insert(source="new_order", linked=_BY_ORDER, cast=True)}
), audit AS (
    {AUDIT.insert(source="new_order", cast=True)}
)
SELECT (SELECT id FROM new_order) AS id, (SELECT sum(1 / (SELECT count(*) FROM stock)) FROM share) AS out_of_step
"""

# The order and its lines; when this path can pay it (a payable, unexpired order of this partner without
# seats), each line also reserves the ids of the tickets it will become.
PAYMENT_READ_SQL = """
SELECT o.id, o.session, o.status, o.total_fen, o.partner, o.expires_at,
       it.price_class, it.seat, it.quantity, it.unit_price_fen, it.concession,
       CASE WHEN o.partner = {}::int AND o.status = ANY({}::varchar[])
                 AND (o.expires_at IS NULL OR o.expires_at >= {}::timestamptz)
                 AND NOT EXISTS (SELECT 1 FROM sales_order_item s WHERE s."order" = o.id AND s.seat IS NOT NULL)
            THEN ARRAY(SELECT nextval(pg_get_serial_sequence('ticket', 'id')) FROM generate_series(1, it.quantity))
       END AS ticket_ids
FROM sales_order o JOIN sales_order_item it ON it."order" = o.id
WHERE o.code = {}
ORDER BY it.id
"""

# Each ticket's own values come as arrays (unnested into `t`, with the reserved ids); the rest are the same
# for every ticket of the order, the after-sale rules in force for the session among them.
_PER_TICKET = ("price_class", "seat", "price_fen", "concession", "code", "short_code")
_ARRAYS = ", ".join(f"{{}}::{TICKET.cast(c)}[]" for c in _PER_TICKET)
_POLICY = IN_FORCE_FOR_SESSION_SQL.replace("{}", "{}::int", 1)
_TICKETS = TICKET.insert(
    source=f"paid, (SELECT {_POLICY} AS id) AS policy, "
    f"unnest({{}}::int[], {_ARRAYS}) AS t(id, {', '.join(_PER_TICKET)})",
    linked={"order": "paid.id", "policy_version": "policy.id", **{c: f"t.{c}" for c in _PER_TICKET}},
    extra={"id": "t.id"},
    cast=True,
)
# The ledger's two entries of a payment (the sale and the money), alike but for kind and method.
_PER_ENTRY = ("kind", "method")
_LEDGER = LEDGER.insert(
    source="paid, payment, (VALUES ({}::varchar, {}::varchar), ({}::varchar, {}::varchar)) AS k(kind, method)",
    linked={"order": "paid.id", "payment_id": "payment.id", **{c: f"k.{c}" for c in _PER_ENTRY}},
    cast=True,
)

PAY_SQL = f"""
WITH paid AS (
    UPDATE sales_order SET status = 'paid', paid_at = {{}}::timestamptz
    WHERE id = {{}}::int AND status = ANY({{}}::varchar[]) AND (expires_at IS NULL OR expires_at >= {{}}::timestamptz)
    RETURNING id
), status_event AS (
    {ORDER_EVENT.insert(source="paid", linked=_BY_ORDER, cast=True)}
), payment AS (
    {PAID_PAYMENT.insert(source="paid", linked=_BY_ORDER, cast=True)} RETURNING id
), issued AS (
    {_TICKETS}
), ledger AS (
    {_LEDGER}
), audit AS (
    {AUDIT.insert(source="paid", cast=True)}
)
SELECT id FROM payment
"""


def enabled() -> bool:
    """True on PostgreSQL with the connection pool open (web workers, tests) and no transaction open in this
    context (this path runs on a connection of its own); the careful path otherwise."""
    return pg.fast_path_ready(Order)


def _json(value: Any) -> str:
    """JSON text as Piccolo's JSON columns write it on the careful path."""
    return dump_json(value)


async def place_order(
    actor: Actor, *, order: dict[str, Any], item: dict[str, Any], event: dict[str, Any], audit: dict[str, Any]
) -> int | None:
    """Take `item["quantity"]` tickets of `item["price_class"]` (from its allocation `item["allocation"]`, if
    any) and write the order: its id, or None (nothing written) when fewer tickets are left. The rows are those
    the careful path writes (db/sales/rows.py), their "order" column left to this statement."""
    quantity, allocation = item["quantity"], item["allocation"]
    args = [
        quantity,
        allocation,
        quantity,
        quantity,
        item["price_class"],
        quantity,
        allocation,
        *ORDER.values(order, dumps=_json),
        *ORDER_ITEM.values(item, linked=_BY_ORDER, dumps=_json),
        *ORDER_EVENT.values(event, linked=_BY_ORDER),
        *AUDIT.values(audit, dumps=_json),
    ]
    async with pg.pooled_connection(Order) as conn:
        try:
            rows = await pg.fetch(conn, PLACE_SQL, *args)
        except asyncpg.DivisionByZeroError:  # out_of_step: the class refused what the allocation gave; undone
            return None
    return rows[0]["id"]


async def pay(actor: Actor, code: str, partner_id: int, method: str, now: dt.datetime) -> tuple[int, list[int]] | None:
    """Settle a payable, unexpired general-admission order of this partner and issue its tickets:
    (payment id, ticket ids), or None (nothing written) when the careful path must decide."""
    async with pg.pooled_connection(Order) as conn:
        lines = await pg.fetch(conn, PAYMENT_READ_SQL, partner_id, list(PAYABLE), now, code)
        if not lines or lines[0]["ticket_ids"] is None:
            return None
        order = lines[0]
        ring = keyring()
        ids: list[int] = []
        arrays: dict[str, list[Any]] = {c: [] for c in _PER_TICKET}
        for line in lines:
            for ticket_id in line["ticket_ids"]:
                ids.append(ticket_id)
                for column, item_column in TICKET_FROM_ITEM.items():
                    if column in arrays:
                        arrays[column].append(line[item_column])
                arrays["code"].append(ring.sign(ticket_id, order["session"], bool(line["concession"])))
                arrays["short_code"].append(number_for(ticket_id))
        tickets = dict.fromkeys(TICKET.columns) | {"session": order["session"], "status": TICKET_ISSUED}
        tickets["issued_at"] = now
        total = order["total_fen"]
        payment = paid_payment_row(None, method=method, amount_fen=total, outcome="accepted", actor=actor, now=now)
        sale, money = (
            ledger.entry_row(actor, now, None, m, channel="partner", partner_id=partner_id)
            for m in (ledger.Movement(ledger.SALE, total), ledger.Movement(ledger.PAYMENT, total, method))
        )
        audit = entry(
            actor,
            "order.pay",
            "order",
            code,
            before={"status": order["status"]},
            after={"status": PAID, "method": method, "amount_fen": total, "outcome": "accepted", "tickets": len(ids)},
        )
        rows = await pg.fetch(
            conn,
            PAY_SQL,
            now,
            order["id"],
            list(PAYABLE),
            now,
            *ORDER_EVENT.values(event_row(None, PAID, actor, now), linked=_BY_ORDER),
            *PAID_PAYMENT.values(payment, linked=_BY_ORDER),
            *TICKET.values(tickets, linked=("order", "policy_version", *_PER_TICKET)),
            order["session"],
            ids,
            *(arrays[c] for c in _PER_TICKET),
            *LEDGER.values(sale, linked=("order", "payment_id", *_PER_ENTRY)),
            *(row[c] for row in (sale, money) for c in _PER_ENTRY),
            *AUDIT.values(audit, dumps=_json),
        )
    return (rows[0]["id"], ids) if rows else None
