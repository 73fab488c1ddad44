"""Read-only views of the catalog for pages: plain dicts in the shapes the templates use.

Seat dicts follow the contract of templates/catalog/_seat_plan.html: id, section, row_label, number,
seat_class, x, y, status ('free' | 'held' | 'sold')."""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query.functions.aggregate import Count

from db.catalog.tables import Event, EventSession, Gate, PriceChange, Seat, SessionGate, SessionSeat, Venue
from db.core.clock import utcnow
from db.core.errors import NotFound


async def _counts(column, ids: list[int]) -> dict[int, int]:
    table = column._meta.table
    rows = (
        await table.select(column.as_alias("key"), Count(alias="n")).where(column.is_in(ids or [-1])).group_by(column)
    )
    return {r["key"]: r["n"] for r in rows}


async def venues() -> list[dict[str, Any]]:
    rows = await Venue.select().order_by(Venue.name)
    ids = [r["id"] for r in rows]
    seats, gates = await _counts(Seat.venue, ids), await _counts(Gate.venue, ids)
    for r in rows:
        r["seats"], r["gates"] = seats.get(r["id"], 0), gates.get(r["id"], 0)
    return rows


async def venue(venue_id: int) -> dict[str, Any]:
    row = await Venue.select().where(Venue.id == venue_id).first()
    if row is None:
        raise NotFound("No such venue.")
    return row


async def venue_gates(venue_id: int) -> list[dict[str, Any]]:
    return await Gate.select().where(Gate.venue == venue_id).order_by(Gate.code)


async def venue_seats(venue_id: int) -> list[dict[str, Any]]:
    """The venue's plan with every seat free (no session)."""
    rows = await Seat.select().where(Seat.venue == venue_id).order_by(Seat.y).order_by(Seat.x)
    for r in rows:
        r["status"] = "free"
    return rows


async def seat_classes(venue_id: int) -> list[str]:
    rows = await Seat.select(Seat.seat_class).where(Seat.venue == venue_id).distinct().order_by(Seat.seat_class)
    return [r["seat_class"] for r in rows]


async def events(kind: str | None = None) -> list[dict[str, Any]]:
    query = Event.select().order_by(Event.name)
    if kind:
        query = query.where(Event.kind == kind)
    rows = await query
    sessions = await _counts(EventSession.event, [r["id"] for r in rows])
    for r in rows:
        r["sessions"] = sessions.get(r["id"], 0)
    return rows


async def event(event_id: int) -> dict[str, Any]:
    row = await Event.select().where(Event.id == event_id).first()
    if row is None:
        raise NotFound("No such event.")
    return row


async def event_sessions(event_id: int) -> list[dict[str, Any]]:
    return await (
        EventSession.select(
            EventSession.all_columns(),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where(EventSession.event == event_id)
        .order_by(EventSession.starts_at)
    )


async def session(session_id: int) -> dict[str, Any]:
    row = await (
        EventSession.select(
            EventSession.all_columns(),
            EventSession.event.name.as_alias("event_name"),
            EventSession.event.kind.as_alias("event_kind"),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where(EventSession.id == session_id)
        .first()
    )
    if row is None:
        raise NotFound("No such session.")
    return row


async def session_gates(session_id: int) -> list[dict[str, Any]]:
    return (
        await SessionGate.select(
            SessionGate.gate.code.as_alias("code"), SessionGate.gate.name.as_alias("name"), SessionGate.sections
        )
        .where(SessionGate.session == session_id)
        .order_by(SessionGate.gate.code)
    )


async def session_seats(session_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The session's seat stock on the plan: a hold past its expiry counts as free."""
    now = now or utcnow()
    rows = await (
        SessionSeat.select(
            SessionSeat.seat.id.as_alias("id"),
            SessionSeat.seat.section.as_alias("section"),
            SessionSeat.seat.row_label.as_alias("row_label"),
            SessionSeat.seat.number.as_alias("number"),
            SessionSeat.seat.seat_class.as_alias("seat_class"),
            SessionSeat.seat.x.as_alias("x"),
            SessionSeat.seat.y.as_alias("y"),
            SessionSeat.status,
            SessionSeat.held_until,
        )
        .where(SessionSeat.session == session_id)
        .order_by(SessionSeat.seat.y)
        .order_by(SessionSeat.seat.x)
    )
    for r in rows:
        if r["status"] == "held" and r["held_until"] is not None and r["held_until"] <= now:
            r["status"] = "free"
    return rows


async def price_changes(session_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every change ever scheduled for the session's classes, newest effective time first, with its state:
    'pending' (announced, not yet in force), 'effective' (in force or superseded later), 'withdrawn'."""
    now = now or utcnow()
    rows = await (
        PriceChange.select(
            PriceChange.all_columns(),
            PriceChange.price_class.name.as_alias("class_name"),
            PriceChange.created_by.username.as_alias("created_by_name"),
        )
        .where(PriceChange.price_class.session == session_id)
        .order_by(PriceChange.effective_at, ascending=False)
    )
    for r in rows:
        r["state"] = "withdrawn" if r["cancelled"] else ("pending" if r["effective_at"] > now else "effective")
    return rows
