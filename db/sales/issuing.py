"""Issuing tickets after payment (R3.4 step 5): one ticket per seat or general-admission unit, each
with its signed QR text (db/ticketcode.py). Runs inside the payment's transaction."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import SessionSeat
from db.errors import Conflict
from db.sales.tables import OrderItem, Ticket
from db.ticketcode import keyring


async def issue_tickets(order_id: int, code: str, session_id: int, now: dt.datetime) -> list[int]:
    """Turn the order's held seats into sold ones and create its tickets; returns the ticket ids."""
    items = await OrderItem.select(
        OrderItem.price_class, OrderItem.seat, OrderItem.quantity, OrderItem.unit_price_fen, OrderItem.concession
    ).where(OrderItem.order == order_id).order_by(OrderItem.id)
    seats = {i["seat"] for i in items if i["seat"] is not None}
    if seats:
        sold = await SessionSeat.update({SessionSeat.status: "sold", SessionSeat.held_until: None}).where(
            (SessionSeat.hold_ref == code) & (SessionSeat.status == "held")
        ).returning(SessionSeat.seat)
        if {r["seat"] for r in sold} != seats:
            raise Conflict("A seat of this order is no longer held for it.")
    rows = [
        Ticket(
            order=order_id, session=session_id, price_class=i["price_class"], seat=i["seat"], price_fen=i["unit_price_fen"],
            concession=i["concession"], status="issued", issued_at=now,
        )
        for i in items
        for _ in range(1 if i["seat"] is not None else i["quantity"])
    ]
    ids = [r["id"] for r in await Ticket.insert(*rows).returning(Ticket.id)]
    ring = keyring()
    cases = " ".join(
        f"WHEN {tid} THEN '{ring.sign(tid, session_id, bool(row.concession))}'" for tid, row in zip(ids, rows, strict=True)
    )
    # The codes are base32 text made here (no user input); one statement sets them all.
    await Ticket.raw(f"UPDATE ticket SET code = CASE id {cases} END WHERE id IN ({', '.join(map(str, ids))})")
    return ids
