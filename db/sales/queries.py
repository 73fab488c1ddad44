"""Reading sales state (R3.4 step 1, R6.2): availability, the seat plan, orders, the audit queue.

Availability first releases expired holds so that it never shows stale stock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Max, Min, Sum

from db.catalog.operations import session_prices
from db.catalog.tables import Event, EventSession, SessionGate, SessionSeat
from db.core.clock import utcnow
from db.core.errors import NotFound
from db.core.transaction import queued_write
from db.inventory import stock as holds
from db.sales.status import AWAITING_AUDIT, EXPIRING, HOLDING
from db.sales.tables import Delivery, Order, OrderEvent, OrderItem, Payment, PaymentRefund, Ticket


async def _release_if_due(session_id: int, now: dt.datetime) -> None:
    due = await Order.exists().where(
        (Order.session == session_id) & Order.status.is_in(list(EXPIRING)) & (Order.expires_at < now)
    )
    if due:
        async with queued_write(Order._meta.db):
            await holds.release_expired(now, session_id)


async def availability(session_id: int, now: dt.datetime | None = None) -> dict:
    """Per price class: price in force, capacity, and free / held / sold counts (seated: seats;
    general admission: tickets, `available` is the free count)."""
    now = now or utcnow()
    if not await EventSession.exists().where(EventSession.id == session_id):
        raise NotFound("No such session.")
    await _release_if_due(session_id, now)
    classes = await session_prices(session_id, now)
    # Only the seats taken are counted (a seated class's capacity is its seat count), so a 50,000-seat session
    # on sale reads a few rows, not every seat (issue 15).
    taken = (
        await SessionSeat.select(SessionSeat.price_class, SessionSeat.status, Count(SessionSeat.id, alias="n"))
        .where((SessionSeat.session == session_id) & (SessionSeat.status != "free"))
        .group_by(SessionSeat.price_class, SessionSeat.status)
    )
    held_ga = (
        await OrderItem.select(OrderItem.price_class, Sum(OrderItem.quantity, alias="n"))
        .where(
            (OrderItem.order.session == session_id)
            & OrderItem.order.status.is_in(list(HOLDING))
            & OrderItem.seat.is_null()
        )
        .group_by(OrderItem.price_class)
    )
    held_by_class = {r["price_class"]: r["n"] or 0 for r in held_ga}
    out = []
    for c in classes:
        if c["seat_class"]:
            counts = {r["status"]: r["n"] for r in taken if r["price_class"] == c["id"]}
            held, sold = counts.get("held", 0), counts.get("sold", 0)
            free = c["capacity"] - held - sold
        else:
            free, held = c["available"], held_by_class.get(c["id"], 0)
            sold = c["capacity"] - free - held
        out.append(
            {
                "id": c["id"],
                "name": c["name"],
                "seat_class": c["seat_class"],
                "price_fen": c["price_fen"],
                "capacity": c["capacity"],
                "available": free,
                "free": free,
                "held": held,
                "sold": sold,
                "upcoming_changes": [
                    {"price_fen": u.price_fen, "effective_at": u.effective_at, "notice": u.notice}
                    for u in c["upcoming_changes"]
                ],
            }
        )
    return {"session_id": session_id, "price_classes": out}


async def seat_plan(
    session_id: int,
    now: dt.datetime | None = None,
    section: str | None = None,
    seat_ids: Sequence[int] | None = None,
    price_class_id: int | None = None,
) -> list[dict]:
    """Every seat of a seated session (or of one `section`, those of `seat_ids`, or those of one price class)
    with its position, status (free, held or sold) and the name of the price class it sells in ("class_name",
    the name the prices use: 甲等), in the shape of templates/catalog/_seat_plan.html (pages word its label with
    db.core.i18n.seat_label)."""
    await _release_if_due(session_id, now or utcnow())
    condition = SessionSeat.session == session_id
    if section is not None:
        # by the venue too, so that the seat index (venue, section, row, number) finds the section's seats
        condition &= (SessionSeat.seat.venue == await _venue_of(session_id)) & (SessionSeat.seat.section == section)
    if seat_ids is not None:
        condition &= SessionSeat.seat.is_in(list(seat_ids) or [-1])
    if price_class_id is not None:
        condition &= SessionSeat.price_class == price_class_id
    rows = (
        await SessionSeat.select(
            SessionSeat.seat,
            SessionSeat.price_class,
            SessionSeat.price_class.name,
            SessionSeat.status,
            SessionSeat.seat.section,
            SessionSeat.seat.row_label,
            SessionSeat.seat.number,
            SessionSeat.seat.x,
            SessionSeat.seat.y,
            SessionSeat.seat.seat_class,
            SessionSeat.seat.obstructed,
        )
        .where(condition)
        .order_by(SessionSeat.seat)
    )
    return [
        {
            "id": r["seat"],
            "section": r["seat.section"],
            "row_label": r["seat.row_label"],
            "number": r["seat.number"],
            "x": r["seat.x"],
            "y": r["seat.y"],
            "seat_class": r["seat.seat_class"],
            "obstructed": bool(r["seat.obstructed"]),
            "class_name": r["price_class.name"] or r["seat.seat_class"],
            "price_class_id": r["price_class"],
            "status": r["status"],
        }
        for r in rows
    ]


OVERVIEW_ABOVE = 2_000  # a plan of more seats opens on its section overview, then one section's seats


@dataclass(frozen=True, slots=True)
class PlanSection:
    """One section on the overview of a big plan: its seats, how many are free, and its box on the plan."""

    name: str
    seats: int
    free: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What a seat-plan page draws. A plan of up to OVERVIEW_ABOVE seats: every seat, `sections` None. A bigger
    one: the `sections` overview and the seats of the chosen `section` (none until one is chosen). `kept`: the
    picked seats still free outside the seats drawn, carried along so that a pick spans sections."""

    seats: list[dict]
    sections: list[PlanSection] | None
    section: str | None
    kept: list[dict]


async def _venue_of(session_id: int) -> int:
    row = await EventSession.select(EventSession.venue).where(EventSession.id == session_id).first()
    if row is None:
        raise NotFound("No such session.")
    return row["venue"]


async def plan_sections(session_id: int) -> list[PlanSection]:
    """Each section of the session's plan with its seat and free counts and its bounding box, by name."""
    rows = (
        await SessionSeat.select(
            SessionSeat.seat.section.as_alias("section"),
            SessionSeat.status,
            Count(SessionSeat.id, alias="n"),
            Min(SessionSeat.seat.x, alias="x0"),
            Min(SessionSeat.seat.y, alias="y0"),
            Max(SessionSeat.seat.x, alias="x1"),
            Max(SessionSeat.seat.y, alias="y1"),
        )
        .where(SessionSeat.session == session_id)
        .group_by(SessionSeat.seat.section, SessionSeat.status)
    )
    merged: dict[str, dict] = {}
    for r in rows:
        m = merged.setdefault(r["section"], {"seats": 0, "free": 0, "box": []})
        m["seats"] += r["n"]
        m["free"] += r["n"] if r["status"] == "free" else 0
        m["box"].append((r["x0"], r["y0"], r["x1"], r["y1"]))
    return [
        PlanSection(
            name,
            m["seats"],
            m["free"],
            min(b[0] for b in m["box"]),
            min(b[1] for b in m["box"]),
            max(b[2] for b in m["box"]),
            max(b[3] for b in m["box"]),
        )
        for name, m in sorted(merged.items())
    ]


async def plan_view(session_id: int, section: str | None = None, picked: Sequence[int] = ()) -> Plan:
    """The plan a page draws (see Plan): every seat, or above OVERVIEW_ABOVE seats the overview and the seats of
    `section` (by default the section of the first picked seat)."""
    now = utcnow()
    await _release_if_due(session_id, now)
    sections = await plan_sections(session_id)
    if sum(s.seats for s in sections) <= OVERVIEW_ABOVE:
        return Plan(await seat_plan(session_id, now), None, None, [])
    chosen = await seat_plan(session_id, now, seat_ids=picked) if picked else []
    if section not in {s.name for s in sections}:
        section = chosen[0]["section"] if chosen else None
    seats = await seat_plan(session_id, now, section=section) if section else []
    kept = [s for s in chosen if s["section"] != section and s["status"] == "free"]
    return Plan(seats, sections, section, kept)


async def events_on_sale(now: dt.datetime | None = None) -> list[dict]:
    """Events with their sessions on sale that have not ended, and the gates that admit each session; each
    session with its venue's time zone and its local date there."""
    now = now or utcnow()
    sessions = (
        await EventSession.select(
            EventSession.id,
            EventSession.event,
            EventSession.starts_at,
            EventSession.ends_at,
            EventSession.seated,
            EventSession.venue.name,
            EventSession.venue.timezone,
        )
        .where((EventSession.status == "on_sale") & (EventSession.ends_at > now))
        .order_by(EventSession.starts_at)
    )
    if not sessions:
        return []
    gates = (
        await SessionGate.select(SessionGate.session, SessionGate.gate.code, SessionGate.gate.name)
        .where(SessionGate.session.is_in([s["id"] for s in sessions]))
        .order_by(SessionGate.gate.code)
    )
    events = await Event.select(Event.id, Event.name, Event.kind).where(
        Event.id.is_in(list({s["event"] for s in sessions}))
    )
    by_event = {e["id"]: {**e, "sessions": []} for e in events}
    for s in sessions:
        by_event[s["event"]]["sessions"].append(
            {
                "id": s["id"],
                "starts_at": s["starts_at"],
                "ends_at": s["ends_at"],
                "seated": s["seated"],
                "venue": s["venue.name"],
                "timezone": s["venue.timezone"],  # times show in the venue's zone
                "date": s["starts_at"].astimezone(ZoneInfo(s["venue.timezone"])).date().isoformat(),
                "gates": [{"code": g["gate.code"], "name": g["gate.name"]} for g in gates if g["session"] == s["id"]],
            }
        )
    return sorted(by_event.values(), key=lambda e: e["sessions"][0]["starts_at"])


async def get_order(code: str, partner_id: int | None = None, *, contact: bool = False) -> dict:
    """The whole order: buyer's name, lines with price breakdown, tickets (with their QR text), status history,
    payments, refunds and deliveries. With `partner_id`, only that partner's own orders are found.

    The buyer's phone and e-mail only with `contact=True`, for the operations that use them (delivery);
    staff see them through db/sales/ordering/buyer_details.py, which checks the permission and audits it.
    `has_phone` and `has_email` say whether there is a contact to deliver e-tickets to (else: printed tickets)."""
    order = (
        await Order.select(
            *Order.all_columns(),
            Order.session.starts_at,
            Order.session.event.name,
            Order.session.venue.name,
            Order.session.venue.timezone,
            Order.seller.display_name,
        )
        .where(Order.code == code)
        .first()
    )
    if order is None or (partner_id is not None and order["partner"] != partner_id):
        raise NotFound("No such order.")
    order["has_phone"], order["has_email"] = bool(order["buyer_phone"]), bool(order["buyer_email"])
    if not contact:
        del order["buyer_phone"], order["buyer_email"]
    oid = order["id"]
    order["items"] = (
        await OrderItem.select(
            *OrderItem.all_columns(),
            OrderItem.price_class.name,
            OrderItem.seat.section,
            OrderItem.seat.row_label,
            OrderItem.seat.number,
        )
        .where(OrderItem.order == oid)
        .order_by(OrderItem.id)
        .output(load_json=True)
    )
    order["tickets"] = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.short_code,
            Ticket.status,
            Ticket.seat,
            Ticket.price_fen,
            Ticket.concession,
            Ticket.price_class.name,
            Ticket.issued_at,
            Ticket.revoked_at,
            Ticket.seat.section,
            Ticket.seat.row_label,
            Ticket.seat.number,
        )
        .where(Ticket.order == oid)
        .order_by(Ticket.id)
    )
    order["events"] = await OrderEvent.select().where(OrderEvent.order == oid).order_by(OrderEvent.id)
    order["payments"] = await Payment.select().where(Payment.order == oid).order_by(Payment.id)
    order["refunds"] = await PaymentRefund.select().where(PaymentRefund.order == oid).order_by(PaymentRefund.id)
    order["deliveries"] = await Delivery.select().where(Delivery.order == oid).order_by(Delivery.id)
    return order


async def order_status(code: str, partner_id: int | None = None) -> dict:
    """The order's code, status, total and hold expiry (a cheap read for APIs)."""
    query = Order.select(Order.id, Order.code, Order.status, Order.total_fen, Order.expires_at, Order.partner)
    order = await query.where(Order.code == code).first()
    if order is None or (partner_id is not None and order["partner"] != partner_id):
        raise NotFound("No such order.")
    return order


_ORDER_TICKETS_SQL = """
SELECT t.id, t.code, t.short_code, t.status, t.price_fen, t.concession, pc.name AS "price_class.name", t.seat,
       st.section AS "seat.section", st.row_label AS "seat.row_label", st.number AS "seat.number"
FROM ticket t JOIN sales_order o ON o.id = t."order" JOIN price_class pc ON pc.id = t.price_class
LEFT JOIN seat st ON st.id = t.seat
WHERE o.code = {}
ORDER BY t.id
"""


async def order_tickets(code: str) -> list[dict]:
    """The order's tickets: id, QR text ("code"), short number ("short_code"), status, price, price class name
    and seat parts, in one query
    (written out: it answers every partner payment of an on-sale rush)."""
    return await Ticket.raw(_ORDER_TICKETS_SQL, code)


async def audit_queue(limit: int = 200) -> list[dict]:
    """Orders waiting for an auditor, oldest first, with what the auditor must check."""
    orders = (
        await Order.select(
            Order.id,
            Order.code,
            Order.channel,
            Order.created_at,
            Order.total_fen,
            Order.subtotal_fen,
            Order.group_size,
            Order.group_percent_off,
            Order.buyer_name,
            Order.buyer_id_masked,
            Order.outlet,
            Order.seller.display_name,
            Order.session.event.name,
            Order.session.starts_at,
            Order.session.venue.timezone,
        )
        .where(Order.status == AWAITING_AUDIT)
        .order_by(Order.created_at)
        .limit(limit)
    )
    lines = await OrderItem.select(
        OrderItem.order,
        OrderItem.quantity,
        OrderItem.concession,
        OrderItem.id_type,
        OrderItem.id_masked,
        OrderItem.list_price_fen,
        OrderItem.unit_price_fen,
        OrderItem.price_class.name,
        OrderItem.seat,
        OrderItem.seat.section,
        OrderItem.seat.row_label,
        OrderItem.seat.number,
    ).where(OrderItem.order.is_in([o["id"] for o in orders] or [-1]))
    for o in orders:
        o["items"] = [line for line in lines if line["order"] == o["id"]]
    return orders


async def search_orders(
    *,
    status: str | None = None,
    channel: str | None = None,
    session_id: int | None = None,
    code: str | None = None,
    seller_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Orders, newest first, filtered by any of the arguments (no buyer details: open the order for those)."""
    query = (
        Order.select(
            Order.id,
            Order.code,
            Order.status,
            Order.channel,
            Order.total_fen,
            Order.created_at,
            Order.expires_at,
            Order.paid_at,
            Order.outlet,
            Order.seller.display_name,
            Order.session,
            Order.session.event.name,
            Order.session.starts_at,
            Order.session.venue.timezone,
        )
        .order_by(Order.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    for column, value in (
        (Order.status, status),
        (Order.channel, channel),
        (Order.session, session_id),
        (Order.seller, seller_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if code:
        query = query.where(Order.code == code.strip().upper())
    return await query


async def ticket_by_id(ticket_id: int) -> dict:
    row = (
        await Ticket.select(Ticket.id, Ticket.code, Ticket.status, Ticket.order.code)
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None:
        raise NotFound("No such ticket.")
    return row
