"""Issuing tickets after payment (R3.4 step 5): one ticket per seat or general-admission unit, each
with its signed QR text (db/sales/tickets/codes.py) and its short number (short_numbers.py). Runs inside the
payment's transaction."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import SessionSeat
from db.core.errors import Conflict
from db.sales.aftersale.policies import IN_FORCE_FOR_SESSION_SQL
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER
from db.sales.rows import TICKET, TICKET_FROM_ITEM
from db.sales.status import TICKET_ISSUED
from db.sales.tables import Ticket
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import number_for

# One statement creates every ticket of the order: one row per seat line, `quantity` rows per
# general-admission line (a recursive CTE counts the units; it works on SQLite and PostgreSQL). The columns
# are the ticket's shape (db/sales/rows.py), taken from the order line as the fast path takes them, with the
# after-sale rules in force for the session; the signed code follows once the ids are known.
_FROM_ITEM = {column: f'it."{item_column}"' for column, item_column in TICKET_FROM_ITEM.items()}
_TICKETS = TICKET.insert(
    source="sales_order_item it JOIN unit ON unit.n <= it.quantity",
    linked={**_FROM_ITEM, "code": "NULL", "short_code": "NULL", "policy_version": IN_FORCE_FOR_SESSION_SQL},
)
_ISSUE_SQL = f"""
WITH RECURSIVE unit(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM unit WHERE n < {MAX_TICKETS_PER_ORDER})
{_TICKETS}
WHERE it."order" = {{}}
ORDER BY it.id, unit.n
RETURNING id, seat, concession
"""


async def issue_tickets(order_id: int, code: str, session_id: int, now: dt.datetime) -> list[int]:
    """Create the order's tickets with their signed QR texts and turn its held seats into sold ones;
    returns the ticket ids."""
    args = (session_id, TICKET_ISSUED, now, session_id, order_id)  # session, status, issued_at, policy, order
    rows = sorted(await Ticket.raw(_ISSUE_SQL, *args), key=lambda r: r["id"])
    seats = {r["seat"] for r in rows if r["seat"] is not None}
    if seats:
        sold = (
            await SessionSeat.update({SessionSeat.status: "sold", SessionSeat.held_until: None})
            .where((SessionSeat.hold_ref == code) & (SessionSeat.status == "held"))
            .returning(SessionSeat.seat)
        )
        if {r["seat"] for r in sold} != seats:
            raise Conflict("A seat of this order is no longer held for it.")
    ring = keyring()
    codes = [v for r in rows for v in (r["id"], ring.sign(r["id"], session_id, bool(r["concession"])))]
    numbers = [v for r in rows for v in (r["id"], number_for(r["id"]))]
    # One statement sets every code and short number; its text depends only on the number of tickets, so it is
    # prepared once.
    cases = " ".join("WHEN {} THEN {}" for _ in rows)
    await Ticket.raw(
        f"UPDATE ticket SET code = CASE id {cases} END, short_code = CASE id {cases} END "
        'WHERE "order" = {} AND code IS NULL',
        *codes,
        *numbers,
        order_id,
    )
    return [r["id"] for r in rows]
