"""What supervisors see of one session's admission, and which sessions and gates are at work now
(issue 4, live entry counts). Read-only queries over the gate tables; plain values out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.catalog.tables import EventSession, Gate, PriceClass, SessionGate, SessionSeat
from db.core.clock import utcnow
from db.core.engine import engine_name
from db.core.errors import NotFound
from db.gate.tables import GateConflict, GateDevice, Scan
from db.sales.tables import Ticket

CHART_MINUTES = 30  # entries per minute over the last half hour
LATEST_REJECTIONS = 10
OFFLINE_AFTER = dt.timedelta(seconds=60)  # an active device not heard from for this long is offline
CURRENT_WINDOW = dt.timedelta(hours=12)  # sessions whose admission is within this of now are "current"

_PRESENCE_SQL = """
SELECT count(*) AS admitted, coalesce(sum(entries), 0) AS entries, coalesce(sum(exits), 0) AS exits
FROM gate_admission WHERE session = {}
"""

_PER_GATE_SQL = """
SELECT gate, direction, status, count(*) AS scans FROM gate_scan WHERE session = {} GROUP BY gate, direction, status
"""

_MINUTE = {
    "postgresql": "to_char(date_trunc('minute', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI')",
    "sqlite": "strftime('%Y-%m-%dT%H:%M', at)",
}

_PER_MINUTE_SQL = """
SELECT {minute} AS minute, count(*) AS entries FROM gate_scan
WHERE session = {{}} AND status = 'ok' AND direction = 'in' AND at >= {{}} GROUP BY 1
"""


def _engine() -> str:
    return engine_name(Scan._meta.db)


async def _session(session_id: int) -> dict[str, Any]:
    row = (
        await EventSession.select(
            EventSession.id,
            EventSession.starts_at,
            EventSession.status,
            EventSession.reentry_allowed,
            EventSession.admission_opens_at,
            EventSession.admission_closes_at,
            EventSession.event.name.as_alias("event_name"),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where(EventSession.id == session_id)
        .first()
    )
    if row is None:
        raise NotFound("No such session.")
    return row


async def _capacity(session_id: int) -> int:
    seats = await SessionSeat.count().where(SessionSeat.session == session_id)
    standing = await PriceClass.select(PriceClass.capacity).where(
        (PriceClass.session == session_id) & (PriceClass.seat_class == "")
    )
    return seats + sum(row["capacity"] for row in standing)


async def _per_gate(session_id: int, gates: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    counts = {g["id"]: {"entries": 0, "exits": 0, "rejected": 0, "offline_scans": 0} for g in gates}
    for row in await Scan.raw(_PER_GATE_SQL, session_id):
        bucket = counts.setdefault(row["gate"], {"entries": 0, "exits": 0, "rejected": 0, "offline_scans": 0})
        key = "rejected" if row["status"] != "ok" else "entries" if row["direction"] == "in" else "exits"
        bucket[key] += row["scans"]
    offline_scans = await Scan.select(Scan.gate, Scan.id).where((Scan.session == session_id) & (Scan.offline == True))  # noqa: E712
    for row in offline_scans:
        counts[row["gate"]]["offline_scans"] += 1
    devices = await GateDevice.select(GateDevice.gate, GateDevice.name, GateDevice.last_seen).where(
        GateDevice.gate.is_in([g["id"] for g in gates] or [-1]) & (GateDevice.active == True)  # noqa: E712
    )
    out = []
    for gate in gates:
        own = [d for d in devices if d["gate"] == gate["id"]]
        silent = [d for d in own if d["last_seen"] is None or d["last_seen"] < now - OFFLINE_AFTER]
        out.append(
            {
                "code": gate["code"],
                "name": gate["name"],
                **counts[gate["id"]],
                "devices": len(own),
                # each silent device with its own last contact (None: it never connected)
                "silent_devices": [{"name": d["name"], "last_seen": d["last_seen"]} for d in silent],
            }
        )
    return out


async def _per_minute(session_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    end = now.replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=CHART_MINUTES - 1)
    rows = await Scan.raw(_PER_MINUTE_SQL.format(minute=_MINUTE[_engine()]), session_id, start)
    found = {row["minute"]: row["entries"] for row in rows}
    minutes = [start + dt.timedelta(minutes=i) for i in range(CHART_MINUTES)]
    return [{"at": m, "entries": found.get(m.strftime("%Y-%m-%dT%H:%M"), 0)} for m in minutes]


async def _rejections(session_id: int, gate_ids: list[int], opens_at: dt.datetime) -> list[dict[str, Any]]:
    """The latest refused scans of the session, and unreadable codes shown at its gates since admission opened."""
    rows = (
        await Scan.select(
            Scan.id,
            Scan.at,
            Scan.gate.code.as_alias("gate"),
            Scan.status,
            Scan.reason,
            Scan.direction,
            Scan.ticket,
            Scan.offline,
            Scan.result,
        )
        .where(
            (Scan.status != "ok")
            & (
                (Scan.session == session_id)
                | (Scan.session.is_null() & Scan.gate.is_in(gate_ids or [-1]) & (Scan.at >= opens_at))
            )
        )
        .order_by(Scan.id, ascending=False)
        .limit(LATEST_REJECTIONS)
        .output(load_json=True)
    )
    return [
        {**{k: v for k, v in row.items() if k != "result"}, "params": row["result"].get("reason_params", {})}
        for row in rows
    ]


async def _conflicts(session_id: int) -> list[dict[str, Any]]:
    return (
        await GateConflict.select(
            GateConflict.id,
            GateConflict.ticket,
            GateConflict.at,
            GateConflict.gate.code.as_alias("gate"),
            GateConflict.first_entry_at,
            GateConflict.first_gate.code.as_alias("first_gate"),
        )
        .where((GateConflict.session == session_id) & GateConflict.resolved.eq(False))
        .order_by(GateConflict.id)
    )


async def overview(session_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the session's live dashboard shows. `inside` is entries minus exits; `capacity_used`
    the share of the session's capacity inside now (0..1, None without capacity)."""
    now = now or utcnow()
    session = await _session(session_id)
    gates = (
        await SessionGate.select(
            SessionGate.gate.id.as_alias("id"),
            SessionGate.gate.code.as_alias("code"),
            SessionGate.gate.name.as_alias("name"),
        )
        .where(SessionGate.session == session_id)
        .order_by(SessionGate.gate.code)
    )
    presence = (await Scan.raw(_PRESENCE_SQL, session_id))[0]
    capacity = await _capacity(session_id)
    inside = presence["entries"] - presence["exits"]
    per_gate = await _per_gate(session_id, gates, now)
    return {
        "session": session,
        "tickets": await Ticket.count().where((Ticket.session == session_id) & (Ticket.status == "issued")),
        "admitted": presence["admitted"],
        "entries": presence["entries"],
        "exits": presence["exits"],
        "inside": inside,
        "capacity": capacity,
        "capacity_used": inside / capacity if capacity else None,
        "gates": per_gate,
        "offline_gates": [g for g in per_gate if g["silent_devices"]],
        "per_minute": await _per_minute(session_id, now),
        "rejections": await _rejections(session_id, [g["id"] for g in gates], session["admission_opens_at"]),
        "conflicts": await _conflicts(session_id),
        "as_of": now,
    }


async def current_sessions(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Sessions whose admission window lies within CURRENT_WINDOW of now, soonest first."""
    now = now or utcnow()
    return (
        await EventSession.select(
            EventSession.id,
            EventSession.starts_at,
            EventSession.admission_opens_at,
            EventSession.admission_closes_at,
            EventSession.reentry_allowed,
            EventSession.venue,
            EventSession.event.name.as_alias("event_name"),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where(
            (EventSession.admission_closes_at > now - CURRENT_WINDOW)
            & (EventSession.admission_opens_at < now + CURRENT_WINDOW)
            & (EventSession.status != "cancelled")
        )
        .order_by(EventSession.admission_opens_at)
    )


async def gates_with_sessions(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every gate (by venue) with the current sessions it admits: what an attendant picks from."""
    sessions = await current_sessions(now)
    links = await SessionGate.select(SessionGate.gate, SessionGate.session).where(
        SessionGate.session.is_in([s["id"] for s in sessions] or [-1])
    )
    by_id = {s["id"]: s for s in sessions}
    gates = (
        await Gate.select(
            Gate.id,
            Gate.code,
            Gate.name,
            Gate.venue.name.as_alias("venue_name"),
            Gate.venue.timezone.as_alias("timezone"),
        )
        .order_by(Gate.venue.name)
        .order_by(Gate.code)
    )
    for gate in gates:
        gate["sessions"] = [by_id[link["session"]] for link in links if link["gate"] == gate["id"]]
        gate["sessions"].sort(key=lambda s: s["admission_opens_at"])
    return gates


async def gate_sessions(gate_code: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """One gate and its current sessions (the tablet page's header and its session picker)."""
    for gate in await gates_with_sessions(now):
        if gate["code"] == gate_code.strip().upper():
            return gate
    raise NotFound("No gate with the code {code}.", code=gate_code)
