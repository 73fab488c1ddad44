"""Catalog operations: each is one transaction, validates its input, and leaves an audit entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, available_timezones

from db.audit.record import record
from db.catalog.pricing import ScheduledPrice, price_at, upcoming
from db.catalog.seatmap import SeatRow, parse_seat_csv
from db.catalog.tables import (
    Event,
    EventSession,
    Gate,
    PriceChange,
    PriceClass,
    Seat,
    SessionGate,
    SessionSeat,
    Venue,
)
from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.engine import engine_name
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Refusals, unique_violation
from db.core.text import TEXT_LIMIT, bounded, one_line
from db.core.transaction import write_transaction
from db.staff.permissions import Permission, role_allows

EVENT_KINDS = ("performance", "film", "sport", "attraction")
DEFAULT_ADMISSION_BEFORE = dt.timedelta(minutes=90)
DEFAULT_ADMISSION_AFTER = dt.timedelta(minutes=60)
INSERT_BATCH = 500  # rows per INSERT: stays under SQLite's bound-variable limit


def _db():
    return Venue._meta.db


async def _lock_venue(venue_id: int) -> None:
    """Serialise the overlap check per venue on PostgreSQL (an immediate SQLite transaction already does)."""
    if engine_name(_db()) == "postgresql":
        await Venue.select(Venue.id).where(Venue.id == venue_id).lock_rows()


async def _insert_seats(venue_id: int, seats: list[SeatRow]) -> None:
    for start in range(0, len(seats), INSERT_BATCH):
        await Seat.insert(
            *[
                Seat(
                    venue=venue_id,
                    section=s.section,
                    row_label=s.row,
                    number=s.number,
                    seat_class=s.seat_class,
                    x=s.x,
                    y=s.y,
                    obstructed=s.obstructed,
                )
                for s in seats[start : start + INSERT_BATCH]
            ]
        )


async def create_venue(
    actor: Actor,
    name: str,
    city: str,
    address: str = "",
    seat_csv: str | None = None,
    timezone: str = VENUE_TIMEZONE.key,
) -> int:
    name, city, address, timezone = name.strip(), city.strip(), address.strip(), timezone.strip()
    refusals = Refusals()
    if not name:
        refusals.refuse("Enter the venue's name.", field="name")
    if not city:
        refusals.refuse("Enter the venue's city.", field="city")
    for name_of_field, value, limit in (("name", name, 100), ("city", city, 50), ("address", address, 200)):
        with refusals.collect():
            bounded(one_line(value, name_of_field), name_of_field, limit)
    if timezone not in available_timezones():
        refusals.refuse("Unknown time zone: {zone}", field="timezone", zone=timezone)
    with refusals.collect():
        seats = parse_seat_csv(seat_csv) if seat_csv and seat_csv.strip() else []
    refusals.raise_any()
    async with write_transaction(_db()):
        if await Venue.exists().where(Venue.name == name):
            raise Conflict("A venue named {name} exists already.", field="name", name=name)
        try:
            venue_id = (
                await Venue.insert(Venue(name=name, city=city, address=address, timezone=timezone)).returning(Venue.id)
            )[0]["id"]
        except Exception as exc:
            if unique_violation(exc):
                raise Conflict("A venue named {name} exists already.", field="name", name=name) from None
            raise
        await _insert_seats(venue_id, seats)
        await record(
            actor,
            "venue.create",
            "venue",
            venue_id,
            after={"name": name, "city": city, "timezone": timezone, "seats": len(seats)},
        )
    return venue_id


async def replace_seat_map(actor: Actor, venue_id: int, seat_csv: str) -> int:
    """Load a venue's seat plan from CSV. Refused once any session of the venue has seat stock."""
    seats = parse_seat_csv(seat_csv)
    async with write_transaction(_db()):
        venue = await Venue.objects().where(Venue.id == venue_id).first()
        if venue is None:
            raise NotFound("No such venue.")
        if await SessionSeat.exists().where(SessionSeat.seat.venue == venue_id):
            raise Conflict("Sessions already sell this seat map; it cannot be replaced.", field="seat_csv")
        before = await Seat.count().where(Seat.venue == venue_id)
        await Seat.delete().where(Seat.venue == venue_id)
        await _insert_seats(venue_id, seats)
        await record(actor, "venue.seat_map", "venue", venue_id, before={"seats": before}, after={"seats": len(seats)})
    return len(seats)


async def add_gate(actor: Actor, venue_id: int, code: str, name: str) -> int:
    code, name = code.strip().upper(), name.strip()
    refusals = Refusals()
    if not code or len(code) > 20:
        refusals.refuse("A gate needs a code (up to 20 characters).", field="code")
    if not name or len(name) > 60:
        refusals.refuse("A gate needs a name (up to 60 characters).", field="name")
    with refusals.collect():
        one_line(code, "code")
    with refusals.collect():
        one_line(name, "name")
    refusals.raise_any()
    async with write_transaction(_db()):
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound("No such venue.")
        if await Gate.exists().where(Gate.code == code):
            raise Conflict("The gate code {code} is taken.", field="code", code=code)
        try:
            gate_id = (await Gate.insert(Gate(venue=venue_id, code=code, name=name)).returning(Gate.id))[0]["id"]
        except Exception as exc:
            if unique_violation(exc):
                raise Conflict("The gate code {code} is taken.", field="code", code=code) from None
            raise
        await record(actor, "gate.create", "gate", gate_id, after={"venue": venue_id, "code": code, "name": name})
    return gate_id


async def create_event(actor: Actor, name: str, kind: str, description: str = "", duration_minutes: int = 120) -> int:
    name, description = name.strip(), description.strip()
    refusals = Refusals()
    if not name or len(name) > 120:
        refusals.refuse("Enter the event's name (up to 120 characters).", field="name")
    with refusals.collect():
        one_line(name, "name")
    if kind not in EVENT_KINDS:
        refusals.refuse("Choose the kind of event.", field="kind")
    with refusals.collect():
        bounded(description, "description", TEXT_LIMIT)
    if not 1 <= duration_minutes <= 24 * 60:
        refusals.refuse("The duration must be between 1 and 1440 minutes.", field="duration_minutes")
    refusals.raise_any()
    async with write_transaction(_db()):
        event_id = (
            await Event.insert(
                Event(
                    name=name,
                    kind=kind,
                    description=description,
                    duration_minutes=duration_minutes,
                    created_at=utcnow(),
                )
            ).returning(Event.id)
        )[0]["id"]
        await record(actor, "event.create", "event", event_id, after={"name": name, "kind": kind})
    return event_id


@dataclass
class PriceClassSpec:
    name: str
    price_fen: int
    seat_class: str = ""  # seated classes name the venue's seat class; '' is a general-admission quota
    capacity: int = 0


@dataclass
class SessionSpec:
    event_id: int
    venue_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    price_classes: list[PriceClassSpec]
    gate_ids: list[int] = field(default_factory=list)
    reentry_allowed: bool = False
    admission_opens_at: dt.datetime | None = None
    admission_closes_at: dt.datetime | None = None


def _validate_session(spec: SessionSpec) -> None:
    """Every refusal of the session's times and price classes at once."""
    if spec.starts_at.tzinfo is None or spec.ends_at.tzinfo is None:
        raise InvalidInput("Session times need a time zone.", field="starts_at")
    refusals = Refusals()
    if spec.ends_at <= spec.starts_at:
        refusals.refuse("A session must end after it starts.", field="ends_at")
    if not spec.price_classes:
        refusals.refuse("A session needs at least one price class.", field="price_classes")
    names = [pc.name.strip() for pc in spec.price_classes]
    if any(not n or len(n) > 40 for n in names) or len(set(names)) != len(names):
        refusals.refuse("Each price class needs a distinct name (up to 40 characters).", field="price_classes")
    for name in names:
        with refusals.collect():
            one_line(name, "price_classes")
    seat_classes = [pc.seat_class for pc in spec.price_classes if pc.seat_class]
    if len(set(seat_classes)) != len(seat_classes):
        refusals.refuse("Each seat class can have only one price class per session.", field="seat_class")
    if any(pc.price_fen < 0 for pc in spec.price_classes):
        refusals.refuse("A price cannot be below zero.", field="price_fen")
    if any(not pc.seat_class and pc.capacity <= 0 for pc in spec.price_classes):
        refusals.refuse("A general-admission class needs a capacity above zero.", field="capacity")
    refusals.raise_any()


async def refuse_overlap(
    venue_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, other_than: int | None = None
) -> None:
    """Conflict if another session (not `other_than`) uses the venue in that time; call in a write transaction."""
    await _lock_venue(venue_id)
    query = EventSession.select(EventSession.starts_at, EventSession.ends_at, EventSession.venue.timezone).where(
        (EventSession.venue == venue_id)
        & (EventSession.status != "cancelled")
        & (EventSession.starts_at < ends_at)
        & (EventSession.ends_at > starts_at)
    )
    if other_than is not None:
        query = query.where(EventSession.id != other_than)
    overlapping = await query.first()
    if overlapping:
        zone = ZoneInfo(overlapping["venue.timezone"])
        raise Conflict(
            "Another session uses this venue from {starts} to {ends}; choose another time or venue.",
            field="starts_at",
            starts=overlapping["starts_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            ends=overlapping["ends_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        )


async def create_session(actor: Actor, spec: SessionSpec) -> int:
    """Create a 场次 with its price classes, its seat stock (one row per seat of each priced seat class)
    and its gates. Refuses overlapping sessions at the same venue. A session's first prices are prices
    (R3.2, filed with the authorities): setting them needs the price permission like any later change
    (R2.2: the administrator keeps venues, seat maps, gates and events, not prices; issue 9)."""
    if actor.role != "system" and not role_allows(actor.role, Permission.PRICE_EDIT):
        raise PermissionDenied("Setting a session's prices needs the price permission. Ask a supervisor.")
    _validate_session(spec)
    async with write_transaction(_db()):
        if not await Event.exists().where(Event.id == spec.event_id):
            raise NotFound("No such event.")
        if not await Venue.exists().where(Venue.id == spec.venue_id):
            raise NotFound("No such venue.")
        await refuse_overlap(spec.venue_id, spec.starts_at, spec.ends_at)
        seat_classes = {pc.seat_class for pc in spec.price_classes if pc.seat_class}
        seats = (
            await Seat.select(Seat.id, Seat.seat_class).where(
                (Seat.venue == spec.venue_id) & Seat.seat_class.is_in(list(seat_classes))
            )
            if seat_classes
            else []
        )
        found = {s["seat_class"] for s in seats}
        if missing := seat_classes - found:
            raise InvalidInput(
                "The venue has no seats of class {classes}.", field="seat_class", classes=", ".join(sorted(missing))
            )
        gates = await Gate.select(Gate.id).where((Gate.venue == spec.venue_id) & Gate.id.is_in(spec.gate_ids or [-1]))
        if len(gates) != len(set(spec.gate_ids)):
            raise InvalidInput("Every gate must belong to the session's venue.", field="gate_ids")
        session_id = (
            await EventSession.insert(
                EventSession(
                    event=spec.event_id,
                    venue=spec.venue_id,
                    starts_at=spec.starts_at,
                    ends_at=spec.ends_at,
                    seated=bool(seat_classes),
                    admission_opens_at=spec.admission_opens_at or spec.starts_at - DEFAULT_ADMISSION_BEFORE,
                    admission_closes_at=spec.admission_closes_at or spec.starts_at + DEFAULT_ADMISSION_AFTER,
                    reentry_allowed=spec.reentry_allowed,
                )
            ).returning(EventSession.id)
        )[0]["id"]
        by_class: dict[str, list[int]] = {}
        for seat in seats:
            by_class.setdefault(seat["seat_class"], []).append(seat["id"])
        for pc in spec.price_classes:
            capacity = len(by_class[pc.seat_class]) if pc.seat_class else pc.capacity
            pc_id = (
                await PriceClass.insert(
                    PriceClass(
                        session=session_id,
                        name=pc.name.strip(),
                        seat_class=pc.seat_class,
                        price_fen=pc.price_fen,
                        capacity=capacity,
                        available=0 if pc.seat_class else capacity,
                    )
                ).returning(PriceClass.id)
            )[0]["id"]
            seat_ids = by_class.get(pc.seat_class, []) if pc.seat_class else []
            for start in range(0, len(seat_ids), 500):
                await SessionSeat.insert(
                    *[
                        SessionSeat(session=session_id, seat=sid, price_class=pc_id, status="free")
                        for sid in seat_ids[start : start + 500]
                    ]
                )
        for gate_id in set(spec.gate_ids):
            await SessionGate.insert(SessionGate(session=session_id, gate=gate_id))
        await record(
            actor,
            "session.create",
            "event_session",
            session_id,
            after={
                "event": spec.event_id,
                "venue": spec.venue_id,
                "starts_at": spec.starts_at.isoformat(),
                "price_classes": [
                    {"name": pc.name, "price_fen": pc.price_fen, "seat_class": pc.seat_class}
                    for pc in spec.price_classes
                ],
            },
        )
    return session_id


async def schedule_price_change(
    actor: Actor,
    price_class_id: int,
    price_fen: int,
    effective_at: dt.datetime,
    notice: str,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Publish a price change in advance (R3.2): the old price holds until `effective_at`."""
    now = now or utcnow()
    if effective_at.tzinfo is None:
        raise InvalidInput("The effective time needs a time zone.", field="effective_at")
    refusals = Refusals()
    if price_fen < 0:
        refusals.refuse("A price cannot be below zero.", field="price_fen")
    if effective_at <= now:
        refusals.refuse(
            "A price change must take effect in the future; it is announced before it applies.", field="effective_at"
        )
    if not notice.strip():
        refusals.refuse("Write the public notice that announces the change.", field="notice")
    with refusals.collect():
        bounded(notice.strip(), "notice", TEXT_LIMIT)
    refusals.raise_any()
    async with write_transaction(_db()):
        pc = await PriceClass.objects().where(PriceClass.id == price_class_id).first()
        if pc is None:
            raise NotFound("No such price class.")
        before = await current_price(price_class_id, now)
        change_id = (
            await PriceChange.insert(
                PriceChange(
                    price_class=price_class_id,
                    price_fen=price_fen,
                    effective_at=effective_at,
                    notice=notice.strip(),
                    created_by=actor.user_id,
                    created_at=now,
                )
            ).returning(PriceChange.id)
        )[0]["id"]
        await record(
            actor,
            "price.schedule",
            "price_class",
            price_class_id,
            before={"price_fen": before},
            after={
                "price_fen": price_fen,
                "effective_at": effective_at.isoformat(),
                "notice": notice.strip(),
                "change": change_id,
            },
        )
    return change_id


async def cancel_price_change(actor: Actor, change_id: int, *, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    async with write_transaction(_db()):
        change = await PriceChange.objects().where(PriceChange.id == change_id).first()
        if change is None:
            raise NotFound("No such price change.")
        if change.cancelled or change.effective_at <= now:
            raise Conflict("Only a change that has not taken effect can be withdrawn.")
        change.cancelled = True
        await change.save([PriceChange.cancelled])
        await record(
            actor, "price.cancel", "price_class", change.price_class, after={"change": change_id, "cancelled": True}
        )


async def price_schedules(price_class_ids: list[int]) -> dict[int, list[ScheduledPrice]]:
    rows = await PriceChange.select(
        PriceChange.price_class, PriceChange.price_fen, PriceChange.effective_at, PriceChange.notice
    ).where(
        PriceChange.price_class.is_in(price_class_ids or [-1]) & (PriceChange.cancelled == False)  # noqa: E712
    )
    out: dict[int, list[ScheduledPrice]] = {pid: [] for pid in price_class_ids}
    for r in rows:
        out[r["price_class"]].append(ScheduledPrice(r["price_fen"], r["effective_at"], r["notice"]))
    return out


async def current_price(price_class_id: int, when: dt.datetime | None = None) -> int:
    pc = await PriceClass.select(PriceClass.price_fen).where(PriceClass.id == price_class_id).first()
    if pc is None:
        raise NotFound("No such price class.")
    schedule = (await price_schedules([price_class_id]))[price_class_id]
    return price_at(pc["price_fen"], schedule, when or utcnow())


async def session_prices(session_id: int, when: dt.datetime | None = None) -> list[dict]:
    """The session's price classes with the price in force now and the notices of upcoming changes."""
    when = when or utcnow()
    classes = await PriceClass.select().where(PriceClass.session == session_id).order_by(PriceClass.id)
    schedules = await price_schedules([c["id"] for c in classes])
    for c in classes:
        c["base_price_fen"] = c["price_fen"]
        c["price_fen"] = price_at(c["price_fen"], schedules[c["id"]], when)
        c["upcoming_changes"] = upcoming(schedules[c["id"]], when)
    return classes
