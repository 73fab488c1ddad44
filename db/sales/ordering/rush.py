"""The on-sale hot path on PostgreSQL (R1.2, R1.3): a general-admission order placed in ONE statement, and
its payment with every ticket issued in one read and ONE write.

An on-sale rush is thousands of buyers asking for tickets of one price class. The careful path
(db/sales/ordering/orders.py, db/sales/payments/operations.py) runs a transaction of six to eight ORM statements per step;
here each step is a single data-modifying statement (PostgreSQL has no SQLite equivalent), atomic without
BEGIN/COMMIT, sent on a pooled connection directly (db/core/pg.py):

- placing: the conditional stock UPDATE (`available >= n`, so no oversell) and, only when it took the
  tickets, the order, its line, its status event and the audit entry;
- paying: a read of the order's lines that also reserves the tickets' ids (the QR signature covers the
  id), then the conditional move to `paid` and, only when it won, the status event, the payment, the
  tickets with their signed codes and the audit entry.

The callers decide when this applies (one general-admission line; a payable, unexpired order without
seats) and fall back to the careful path otherwise, or when this path did not win. Both paths write the
same rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.utils.encoding import dump_json

from db.audit.record import entry
from db.core import pg
from db.core.actor import Actor
from db.sales.aftersale.policies import IN_FORCE_FOR_SESSION_SQL
from db.sales.status import PAID, PAYABLE
from db.sales.tables import Order
from db.sales.tickets.codes import keyring

_AUDIT_INSERT = """
    INSERT INTO audit_entry (at, actor_id, actor_name, actor_role, action, object_type, object_id, summary, before, after)
    SELECT {}::timestamptz, {}::int, {}::varchar, {}::varchar, {}::varchar, {}::varchar, {}::varchar, {}::text, {}::json, {}::json
"""

PLACE_SQL = (
    """
WITH stock AS (
    UPDATE price_class SET available = available - {}::int WHERE id = {}::int AND available >= {}::int RETURNING id
), new_order AS (
    INSERT INTO sales_order (code, session, channel, status, buyer_name, buyer_phone, buyer_email, buyer_id_masked,
                             total_fen, subtotal_fen, seller, outlet, partner, idempotency_key, needs_audit, group_size,
                             group_percent_off, created_at, expires_at)
    SELECT {}::varchar, {}::int, {}::varchar, {}::varchar, {}::varchar, {}::varchar, {}::varchar, {}::varchar,
           {}::int, {}::int, {}::int, {}::varchar, {}::int, {}::varchar, {}::boolean, {}::int,
           {}::int, {}::timestamptz, {}::timestamptz
    FROM stock RETURNING id
), line AS (
    INSERT INTO sales_order_item ("order", price_class, quantity, list_price_fen, concession, id_type, id_masked,
                                  unit_price_fen, line_total_fen, breakdown)
    SELECT id, {}::int, {}::int, {}::int, {}::varchar, {}::varchar, {}::varchar, {}::int, {}::int, {}::json FROM new_order
), event AS (
    INSERT INTO sales_order_event ("order", at, status, actor_id, actor_name, note)
    SELECT id, {}::timestamptz, {}::varchar, {}::int, {}::varchar, '' FROM new_order
), audit AS ("""
    + _AUDIT_INSERT
    + """ FROM new_order
)
SELECT id FROM new_order
"""
)

# The order and its lines; when this path can pay it (a payable, unexpired order of this partner without
# seats), each line also reserves the ids of the tickets it will become.
PAYMENT_READ_SQL = """
SELECT o.id, o.session, o.status, o.total_fen, o.partner, o.expires_at,
       it.price_class, it.seat, it.quantity, it.unit_price_fen, it.concession,
       CASE WHEN o.partner = {}::int AND o.status = ANY({}::varchar[]) AND (o.expires_at IS NULL OR o.expires_at >= {}::timestamptz)
                 AND NOT EXISTS (SELECT 1 FROM sales_order_item s WHERE s."order" = o.id AND s.seat IS NOT NULL)
            THEN ARRAY(SELECT nextval(pg_get_serial_sequence('ticket', 'id')) FROM generate_series(1, it.quantity))
       END AS ticket_ids
FROM sales_order o JOIN sales_order_item it ON it."order" = o.id
WHERE o.code = {}
ORDER BY it.id
"""

PAY_SQL = (
    """
WITH paid AS (
    UPDATE sales_order SET status = 'paid', paid_at = {}::timestamptz
    WHERE id = {}::int AND status = ANY({}::varchar[]) AND (expires_at IS NULL OR expires_at >= {}::timestamptz)
    RETURNING id
), status_event AS (
    INSERT INTO sales_order_event ("order", at, status, actor_id, actor_name, note)
    SELECT id, {}::timestamptz, 'paid', {}::int, {}::varchar, '' FROM paid
), payment AS (
    INSERT INTO sales_payment ("order", method, amount_fen, status, outcome, created_at, confirmed_at, confirmed_by)
    SELECT id, {}::varchar, {}::int, 'succeeded', 'accepted', {}::timestamptz, {}::timestamptz, {}::int FROM paid
    RETURNING id
), issued AS (
    INSERT INTO ticket (id, "order", session, price_class, price_fen, concession, status, code, issued_at, policy_version)
    SELECT t.id, paid.id, {}::int, t.price_class, t.price_fen, t.concession, 'issued', t.code, {}::timestamptz, policy.id
    FROM paid, (SELECT """
    + IN_FORCE_FOR_SESSION_SQL.replace("{}", "{}::int", 1)
    + """ AS id) AS policy,
        unnest({}::int[], {}::int[], {}::int[], {}::varchar[], {}::varchar[]) AS t(id, price_class, price_fen, concession, code)
), ledger AS (
    INSERT INTO finance_ledger (at, kind, amount_fen, method, channel, "order", partner, payment_id, actor_id, actor_name,
                                reference, note)
    SELECT {}::timestamptz, k.kind, {}::int, k.method, 'partner', paid.id, {}::int, payment.id, {}::int, {}::varchar, '', ''
    FROM paid, payment, (VALUES ('sale', ''), ('payment', {}::varchar)) AS k(kind, method)
), audit AS ("""
    + _AUDIT_INSERT
    + """ FROM paid
)
SELECT id FROM payment
"""
)


def enabled() -> bool:
    """True on PostgreSQL with the connection pool open (web workers, tests) and no transaction open in this
    context (this path runs on a connection of its own); the careful path otherwise."""
    engine = Order._meta.db
    return isinstance(engine, PostgresEngine) and engine.pool is not None and engine.current_transaction.get() is None


def _audit_values(values: dict[str, Any]) -> list[Any]:
    return [
        values["at"],
        values["actor_id"],
        values["actor_name"],
        values["actor_role"],
        values["action"],
        values["object_type"],
        values["object_id"],
        values["summary"],
        _json(values["before"]),
        _json(values["after"]),
    ]


def _json(value: Any) -> str | None:
    """JSON text as Piccolo's JSON columns write it on the careful path."""
    return None if value is None else dump_json(value)


async def place_order(
    actor: Actor,
    *,
    order: dict[str, Any],
    line: dict[str, Any],
    created_event: str,
    audit_after: dict[str, Any],
) -> int | None:
    """Take `line["quantity"]` tickets of `line["price_class"]` and write the order: its id, or None (nothing
    written) when fewer tickets are left. `order` and `line` hold the column values of the careful path."""
    audit = entry(actor, "order.create", "order", order["code"], after=audit_after)
    args = [
        line["quantity"],
        line["price_class"],
        line["quantity"],
        order["code"],
        order["session"],
        order["channel"],
        order["status"],
        order["buyer_name"],
        order["buyer_phone"],
        order["buyer_email"],
        order["buyer_id_masked"],
        order["total_fen"],
        order["subtotal_fen"],
        order["seller"],
        order["outlet"],
        order["partner"],
        order["idempotency_key"],
        order["needs_audit"],
        order["group_size"],
        order["group_percent_off"],
        order["created_at"],
        order["expires_at"],
        line["price_class"],
        line["quantity"],
        line["list_price_fen"],
        line["concession"],
        line["id_type"],
        line["id_masked"],
        line["unit_price_fen"],
        line["line_total_fen"],
        _json(line["breakdown"]),
        order["created_at"],
        created_event,
        actor.user_id,
        actor.name,
        *_audit_values(audit),
    ]
    async with pg.pooled_connection(Order) as conn:
        rows = await pg.fetch(conn, PLACE_SQL, *args)
    return rows[0]["id"] if rows else None


async def pay(actor: Actor, code: str, partner_id: int, method: str, now: dt.datetime) -> tuple[int, list[int]] | None:
    """Settle a payable, unexpired general-admission order of this partner and issue its tickets:
    (payment id, ticket ids), or None (nothing written) when the careful path must decide."""
    async with pg.pooled_connection(Order) as conn:
        lines = await pg.fetch(conn, PAYMENT_READ_SQL, partner_id, list(PAYABLE), now, code)
        if not lines or lines[0]["ticket_ids"] is None:
            return None
        order = lines[0]
        ring = keyring()
        ids, classes, prices, concessions, codes = [], [], [], [], []
        for line in lines:
            for ticket_id in line["ticket_ids"]:
                ids.append(ticket_id)
                classes.append(line["price_class"])
                prices.append(line["unit_price_fen"])
                concessions.append(line["concession"])
                codes.append(ring.sign(ticket_id, order["session"], bool(line["concession"])))
        audit = entry(
            actor,
            "order.pay",
            "order",
            code,
            before={"status": order["status"]},
            after={
                "status": PAID,
                "method": method,
                "amount_fen": order["total_fen"],
                "outcome": "accepted",
                "tickets": len(ids),
            },
        )
        rows = await pg.fetch(
            conn,
            PAY_SQL,
            now,
            order["id"],
            list(PAYABLE),
            now,
            now,
            actor.user_id,
            actor.name,
            method,
            order["total_fen"],
            now,
            now,
            actor.user_id,
            order["session"],
            now,
            order["session"],
            ids,
            classes,
            prices,
            concessions,
            codes,
            now,
            order["total_fen"],
            partner_id,
            actor.user_id,
            actor.name,
            method,
            *_audit_values(audit),
        )
    return (rows[0]["id"], ids) if rows else None
