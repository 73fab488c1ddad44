"""Real-name sessions (China's rules for large performances; issue 13): every ticket bound to one holder,
one ticket per ID number and session, the holder shown at the gate so the attendant can match the person.

The ID number itself is never stored: `id_masked` (1101**********1234) for display and `id_key`, an
HMAC-SHA256 keyed by REALNAME_KEY (else var/realname.key), for the one-per-session match. A holder of an
order that expired, was cancelled or rejected, or of a revoked ticket, frees the ID (its key is renamed
`released:<id>`) the next time the same ID buys; a unique index on (session, id_key) stops two orders racing
for the same ID."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from db.audit.record import record
from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import secret
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory.tables import RealNameSession, TicketHolder
from db.sales.ordering.buyer import ID_TYPES, mask_id
from db.sales.status import CANCELLED, EXPIRED, HOLDING, PAID, REJECTED, TICKET_REVOKED
from db.sales.tables import Order, OrderItem, Ticket

PUBLIC_SALE_MINIMUM = 85  # percent of the approved capacity that must be on public sale
BINDING_DEADLINE = dt.timedelta(hours=24)  # reserved tickets must be bound to an identity by then
CHANGE_CUTOFF = BINDING_DEADLINE  # a holder may change (once) until then
DEAD_ORDERS = (EXPIRED, CANCELLED, REJECTED)
_ID_CARD = re.compile(r"[0-9]{17}[0-9X]")
_OTHER_ID = re.compile(r"[0-9A-Z]{6,30}")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True, slots=True)
class Holder:
    name: str
    id_number: str
    id_type: str = "id_card"


def check_digit(first17: str) -> str:
    """The 18th character of a resident ID card number (GB 11643)."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def clean_holder(holder: Holder, field: str = "holders") -> Holder:
    name = holder.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("Enter the ticket holder's name (up to 100 characters).", field=field)
    one_line(name, field)
    if holder.id_type not in ID_TYPES:
        raise InvalidInput("Choose the type of the holder's ID.", field=field)
    number = re.sub(r"\s", "", holder.id_number or "").upper()
    if holder.id_type == "id_card":
        if not _ID_CARD.fullmatch(number) or check_digit(number[:17]) != number[17]:
            raise InvalidInput(
                "The resident ID number must be 18 characters with a valid check digit; check it against the card.",
                field=field,
            )
    elif not _OTHER_ID.fullmatch(number):
        raise InvalidInput("The holder's ID number must be 6 to 30 letters or digits.", field=field)
    return Holder(name, number, holder.id_type)


def id_key(holder: Holder) -> str:
    key = secret("REALNAME_KEY", "realname.key").encode()
    return hmac.new(key, f"{holder.id_type}:{holder.id_number}".encode(), hashlib.sha256).hexdigest()


async def mark(actor: Actor, session_id: int, approved_capacity: int, reserved: int) -> None:
    """Mark a session real-name (or change its approved capacity and reserved tickets); audited."""
    if not await EventSession.exists().where(EventSession.id == session_id):
        raise NotFound("No such session.")
    if approved_capacity < 1:
        raise InvalidInput("Enter the capacity the authorities approved (at least 1).", field="approved_capacity")
    if not 0 <= reserved <= approved_capacity:
        raise InvalidInput("The reserved tickets cannot exceed the approved capacity.", field="reserved")
    now = utcnow()
    async with queued_write(RealNameSession._meta.db):
        before = await RealNameSession.select().where(RealNameSession.session == session_id).first()
        values = {"approved_capacity": approved_capacity, "reserved": reserved, "marked_at": now}
        if before:
            await RealNameSession.update(values).where(RealNameSession.session == session_id)
        else:
            await RealNameSession.insert(RealNameSession(session=session_id, marked_by=actor.name, **values))
        await record(
            actor,
            "session.realname",
            "session",
            session_id,
            before={k: before[k] for k in ("approved_capacity", "reserved")} if before else None,
            after={"approved_capacity": approved_capacity, "reserved": reserved},
        )


async def is_realname(session_id: int) -> bool:
    return await RealNameSession.exists().where(RealNameSession.session == session_id)


def clean_holders(holders: Sequence[Holder], tickets: int) -> list[Holder]:
    """Every ticket's holder, checked; the same ID twice in one order is refused before anything is written."""
    if len(holders) != tickets:
        raise InvalidInput(
            "This session is real-name: enter the holder's name and ID number for each of the {n} tickets.",
            field="holders",
            n=tickets,
        )
    cleaned = [clean_holder(h) for h in holders]
    numbers = [(h.id_type, h.id_number) for h in cleaned]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput(
            "One ID may hold one ticket per session: the same ID number is given twice.", field="holders"
        )
    return cleaned


def parse_holder_lines(text: str) -> list[Holder]:
    """The shop's holder box: one line per ticket, "name ID-number" (a space, comma or tab between);
    each holder is checked later with clean_holder."""
    holders = []
    for line in (text or "").splitlines():
        parts = re.split(r"[\s,，]+", line.strip())
        if parts and parts[0]:
            holders.append(Holder(" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else Holder(parts[0], ""))
    return holders


def _taken(masked: str) -> Conflict:
    return Conflict(
        "The ID {id} already holds a ticket for this session (one ID, one ticket per session); nothing was sold.",
        field="holders",
        id=masked,
    )


async def bind_holders(
    order_id: int, session_id: int, lines: Sequence[tuple[int, int]], holders: Sequence[Holder], now: dt.datetime
) -> None:
    """Inside the order's write transaction: one holder per ticket of `lines` ((order item id, quantity), in
    the order the tickets are issued). Conflict when an ID already holds a live ticket of the session."""
    keys = [id_key(h) for h in holders]
    await _release_dead(session_id, keys)
    taken = await TicketHolder.select(TicketHolder.id_masked).where(
        (TicketHolder.session == session_id) & TicketHolder.id_key.is_in(keys)
    )
    if taken:
        raise _taken(taken[0]["id_masked"])
    units = [(item, unit) for item, quantity in lines for unit in range(1, quantity + 1)]
    rows = [
        TicketHolder(
            order=order_id,
            order_item=item,
            unit=unit,
            session=session_id,
            name=holder.name,
            id_type=holder.id_type,
            id_masked=mask_id(holder.id_number),
            id_key=key,
            bound_at=now,
        )
        for (item, unit), holder, key in zip(units, holders, keys, strict=True)
    ]
    try:
        await TicketHolder.insert(*rows)
    except Exception as exc:  # the unique (session, id_key) index: another order took the ID just now
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            raise _taken(mask_id(holders[0].id_number)) from exc
        raise


async def _release_dead(session_id: int, keys: list[str]) -> None:
    dead_orders = Order.select(Order.id).where((Order.session == session_id) & Order.status.is_in(list(DEAD_ORDERS)))
    revoked = Ticket.select(Ticket.id).where((Ticket.session == session_id) & (Ticket.status == TICKET_REVOKED))
    dead = await TicketHolder.select(TicketHolder.id).where(
        (TicketHolder.session == session_id)
        & TicketHolder.id_key.is_in(keys)
        & (TicketHolder.order.is_in(dead_orders) | TicketHolder.ticket.is_in(revoked))
    )
    for row in dead:
        await TicketHolder.update({TicketHolder.id_key: f"released:{row['id']}"}).where(TicketHolder.id == row["id"])


async def bind_tickets(ticket_ids: Sequence[int]) -> None:
    """After an order's tickets are issued: each of its holders gets its ticket, in issue order (tickets are
    issued by order line and unit, the order holders are kept in). One query when the order has no holders."""
    if not ticket_ids:
        return
    holders = (
        await TicketHolder.select(TicketHolder.id)
        .where(TicketHolder.order.is_in(Ticket.select(Ticket.order).where(Ticket.id == min(ticket_ids))))
        .order_by(TicketHolder.order_item)
        .order_by(TicketHolder.unit)
    )
    for holder, ticket_id in zip(holders, sorted(ticket_ids), strict=False):
        await TicketHolder.update({TicketHolder.ticket: ticket_id}).where(TicketHolder.id == holder["id"])


async def carry_over(pairs: Sequence[tuple[int, int]], now: dt.datetime) -> None:
    """An exchange (same transaction, after the new tickets are issued): each old ticket's holder becomes the
    new ticket's holder when the new session is real-name; the old binding is released first, so the same ID
    keeps its one ticket. Conflict when the ID already holds another ticket of the new session."""
    old = {
        r["ticket"]: r
        for r in await TicketHolder.select().where(TicketHolder.ticket.is_in([o for o, _ in pairs] or [-1]))
    }
    moved = [(old[o], n) for o, n in pairs if o in old]
    if not moved:
        return
    tickets = {
        t["id"]: t
        for t in await Ticket.select(Ticket.id, Ticket.order, Ticket.session, Ticket.seat, Ticket.price_class).where(
            Ticket.id.is_in([n for _, n in moved])
        )
    }
    realname = {r["session"] for r in await RealNameSession.select(RealNameSession.session)}
    for unit, (holder, new_id) in enumerate(moved, start=1):
        await TicketHolder.update({TicketHolder.id_key: f"released:{holder['id']}"}).where(
            TicketHolder.id == holder["id"]
        )
        ticket = tickets[new_id]
        if ticket["session"] not in realname:
            continue
        item = (
            await OrderItem.select(OrderItem.id)
            .where(
                (OrderItem.order == ticket["order"])
                & (OrderItem.price_class == ticket["price_class"])
                & ((OrderItem.seat == ticket["seat"]) if ticket["seat"] else OrderItem.seat.is_null())
            )
            .first()
        )
        if await TicketHolder.exists().where(
            (TicketHolder.session == ticket["session"]) & (TicketHolder.id_key == holder["id_key"])
        ):
            raise _taken(holder["id_masked"])
        await TicketHolder.insert(
            TicketHolder(
                ticket=new_id,
                order=ticket["order"],
                order_item=item["id"],
                unit=unit,
                session=ticket["session"],
                name=holder["name"],
                id_type=holder["id_type"],
                id_masked=holder["id_masked"],
                id_key=holder["id_key"],
                bound_at=now,
            )
        )


async def holders_of_order(order_id: int) -> list[dict]:
    """The holders as staff and buyers see them (name, masked ID, ticket, when changed), in ticket order."""
    return (
        await TicketHolder.select(
            TicketHolder.name, TicketHolder.id_type, TicketHolder.id_masked, TicketHolder.ticket, TicketHolder.unit,
            TicketHolder.changed_at, TicketHolder.changed_by,
        )
        .where(TicketHolder.order == order_id)
        .order_by(TicketHolder.order_item)
        .order_by(TicketHolder.unit)
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderHolders:
    """An order's holders for its page: each ticket's holder (masked ID), whether it may still change, and until
    when (24 h before the start)."""

    holders: list[dict]
    change_until: dt.datetime
    can_change: bool
    timezone: str  # the venue's: where change_until and each change's time are shown


async def order_holders(code: str, now: dt.datetime | None = None) -> OrderHolders | None:
    """The holders of an order of a real-name session (None: not one); a holder may change once, on a paid
    order's valid ticket, until the cut-off."""
    now = now or utcnow()
    order = await (
        Order.select(Order.id, Order.status, Order.session.starts_at, Order.session.venue.timezone)
        .where(Order.code == code)
        .first()
    )
    if order is None or not await TicketHolder.exists().where(TicketHolder.order == order["id"]):
        return None
    until = order["session.starts_at"] - CHANGE_CUTOFF
    holders = await holders_of_order(order["id"])
    return OrderHolders(holders, until, order["status"] == PAID and now < until, order["session.venue.timezone"])


async def change_holder(
    actor: Actor, code: str, ticket_id: int, holder: Holder, now: dt.datetime | None = None
) -> None:
    """Give a ticket of a real-name session another holder: once per ticket, by its buyer (the order page) or a
    seller, on a paid order's valid ticket, until 24 h before the start; the new ID may hold no other ticket of
    the session (the unique key decides a race). Audited with the masked IDs, nothing changed on a refusal."""
    now = now or utcnow()
    holder = clean_holder(holder, field="holder")
    key = id_key(holder)
    async with queued_write(TicketHolder._meta.db):
        row = (
            await TicketHolder.select(
                TicketHolder.id, TicketHolder.session, TicketHolder.name, TicketHolder.id_masked,
                TicketHolder.changed_at, TicketHolder.order.status, TicketHolder.ticket.status,
                TicketHolder.session.starts_at,
            )
            .where((TicketHolder.ticket == ticket_id) & (TicketHolder.order.code == code))
            .first()
        )  # fmt: skip
        if row is None:
            raise NotFound("No such ticket on this order.")
        if row["order.status"] != PAID or row["ticket.status"] == TICKET_REVOKED:
            raise Conflict("Only the holder of a valid ticket of a paid order can change.", field="holder")
        until = row["session.starts_at"] - CHANGE_CUTOFF
        if now >= until:
            raise Conflict("Holders can change until 24 hours before the start; it is too late now.", field="holder")
        if row["changed_at"] is not None:
            raise Conflict("This ticket's holder was changed once already; it cannot change again.", field="holder")
        await _release_dead(row["session"], [key])
        masked = mask_id(holder.id_number)
        if await TicketHolder.exists().where((TicketHolder.session == row["session"]) & (TicketHolder.id_key == key)):
            raise _taken(masked)
        try:
            await TicketHolder.update(
                {
                    TicketHolder.name: holder.name, TicketHolder.id_type: holder.id_type,
                    TicketHolder.id_masked: masked, TicketHolder.id_key: key, TicketHolder.bound_at: now,
                    TicketHolder.changed_at: now, TicketHolder.changed_by: actor.name,
                }
            ).where(TicketHolder.id == row["id"])  # fmt: skip
        except Exception as exc:  # the unique (session, id_key) index: another ticket took the ID just now
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise _taken(masked) from exc
            raise
        await record(
            actor, "holder.change", "ticket", ticket_id,
            before={"name": row["name"], "id_masked": row["id_masked"]},
            after={"name": holder.name, "id_masked": masked, "by": actor.role},
        )  # fmt: skip


async def holders_of_tickets(ticket_ids: Sequence[int]) -> dict[int, dict]:
    """{ticket id: {"name", "id_masked"}}: what the gate shows to match the person (offline cache too)."""
    if not ticket_ids:
        return {}
    rows = await TicketHolder.select(TicketHolder.ticket, TicketHolder.name, TicketHolder.id_masked).where(
        TicketHolder.ticket.is_in(list(ticket_ids))
    )
    return {r["ticket"]: {"name": r["name"], "id_masked": r["id_masked"]} for r in rows}


async def holders_of_sessions(session_ids: Sequence[int]) -> dict[int, dict]:
    """{ticket id: {"name", "id_masked"}} of the bound holders of these sessions (the gate's offline cache)."""
    rows = await TicketHolder.select(TicketHolder.ticket, TicketHolder.name, TicketHolder.id_masked).where(
        TicketHolder.session.is_in(list(session_ids) or [-1]) & TicketHolder.ticket.is_not_null()
    )
    return {r["ticket"]: {"name": r["name"], "id_masked": r["id_masked"]} for r in rows}


@dataclass(frozen=True, slots=True)
class Compliance:
    session_id: int
    event: str
    starts_at: dt.datetime
    timezone: str  # the venue's
    approved_capacity: int
    reserved: int
    public_percent: float  # share of the approved capacity on public sale
    minimum_percent: int
    public_ok: bool
    unbound: int  # tickets sold or held without a bound holder
    deadline: dt.datetime  # 24 h before the start
    unbound_late: bool  # past the deadline and tickets still unbound


async def compliance(now: dt.datetime | None = None, session_id: int | None = None) -> list[Compliance]:
    """For every real-name session (or only `session_id`, the live monitor's): public-sale share against the 85%
    minimum, and tickets not yet bound to an identity (a warning from 24 h before the start)."""
    now = now or utcnow()
    query = RealNameSession.select(
        RealNameSession.session,
        RealNameSession.approved_capacity,
        RealNameSession.reserved,
        RealNameSession.session.event.name,
        RealNameSession.session.starts_at,
        RealNameSession.session.venue.timezone,
    ).order_by(RealNameSession.session.starts_at)
    sessions = await (query if session_id is None else query.where(RealNameSession.session == session_id))
    result = []
    for s in sessions:
        issued = await Ticket.count().where(
            (Ticket.session == s["session"]) & (Ticket.status != TICKET_REVOKED) & (Ticket.order.status == PAID)
        )
        bound = await TicketHolder.count().where(
            (TicketHolder.session == s["session"])
            & TicketHolder.ticket.is_not_null()
            & (TicketHolder.ticket.status != TICKET_REVOKED)
        )
        holding_units = await Order.raw(
            "SELECT COALESCE(SUM(it.quantity), 0) AS n FROM sales_order_item it "
            'JOIN sales_order o ON o.id = it."order" '
            "WHERE o.session = {} AND o.status IN ("
            + ", ".join(f"'{status}'" for status in HOLDING)
            + ") AND NOT EXISTS (SELECT 1 FROM inventory_ticket_holder h WHERE h.order_item = it.id)",
            s["session"],
        )
        unbound = max(issued - bound, 0) + int(holding_units[0]["n"] or 0)
        capacity = s["approved_capacity"]
        public = 100.0 * (capacity - s["reserved"]) / capacity if capacity else 0.0
        deadline = s["session.starts_at"] - BINDING_DEADLINE
        result.append(
            Compliance(
                session_id=s["session"],
                event=s["session.event.name"],
                starts_at=s["session.starts_at"],
                timezone=s["session.venue.timezone"],
                approved_capacity=capacity,
                reserved=s["reserved"],
                public_percent=round(public, 1),
                minimum_percent=PUBLIC_SALE_MINIMUM,
                public_ok=public >= PUBLIC_SALE_MINIMUM,
                unbound=unbound,
                deadline=deadline,
                unbound_late=now >= deadline and unbound > 0,
            )
        )
    return result
