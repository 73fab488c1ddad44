"""What offline scanners need, and how their journals come back (R9.2).

`snapshot` gives a gate's scanner everything it may check locally: the public keys (never the private
one), the sessions the gate admits with their admission windows, the short number of each of their tickets
(so a typed number is checked offline too), the tickets of those sessions that must
be refused (revoked or not paid), the tickets already admitted, and where the gate admits only some
sections of a seated session, the section of each of its issued tickets. `apply_journal` records the scans a
scanner made while offline, with their original times: an offline admission of a ticket that was
admitted meanwhile elsewhere stays admitted and leaves a GateConflict row for the supervisor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.audit.record import record
from db.catalog.tables import SessionGate
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import InvalidInput
from db.gate.devices import GateInfo
from db.gate.live import announce
from db.gate.presence import Replayed, connection, insert_scan, presence_row, write_presence
from db.gate.rules import PAID_ORDER_STATUSES, VOID_ORDER_STATUSES, Direction, Status, parse_sections
from db.gate.tables import Admission
from db.inventory import realname
from db.sales.aftersale.tables import Revocation
from db.sales.tables import Ticket
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import check_digit_ok, normalise

SYNC_HORIZON = dt.timedelta(days=1)  # sessions whose admission closed longer ago are left out


def _id_runs(ids: list[int]) -> list[list[int]]:
    """Ticket ids as sorted inclusive [first, last] runs of consecutive ids: an order's tickets run together,
    so a stadium session's tens of thousands of tickets take a few thousand runs."""
    runs: list[list[int]] = []
    for ticket_id in sorted(ids):
        if runs and runs[-1][1] == ticket_id - 1:
            runs[-1][1] = ticket_id
        else:
            runs.append([ticket_id, ticket_id])
    return runs


def _ticket_sections(tickets: list[dict], session_ids: set[int]) -> dict[int, dict[str, list[list[int]]]]:
    """For each of `session_ids`: {section ('' for general admission): id runs} of its issued tickets."""
    by_section: dict[int, dict[str, list[int]]] = {session_id: {} for session_id in session_ids}
    for t in tickets:
        if t["session"] in by_section and t["status"] == "issued":
            by_section[t["session"]].setdefault(t["seat.section"] or "", []).append(t["id"])
    return {
        session_id: {section: _id_runs(ids) for section, ids in sections.items()}
        for session_id, sections in by_section.items()
    }


async def _revocation_seq() -> int:
    row = await Revocation.select(Revocation.id).order_by(Revocation.id, ascending=False).first()
    return row["id"] if row else 0


async def revocations(gate: GateInfo, since: int) -> dict[str, Any]:
    """The tickets revoked after number `since` in the numbered revocation log, of the sessions this gate
    admits: {"since", "upto", "revoked": [ticket ids], "restored": [ticket ids]}. A scanner asks with the `upto`
    of its last answer (or its snapshot's `revocation_seq`) on every sync, so a refund reaches it within one
    sync. `restored`: tickets valid again (a declined refund); a ticket's last entry in the range decides."""
    rows = (
        await Revocation.select(Revocation.id, Revocation.ticket, Revocation.restored)
        .where(
            (Revocation.id > since)
            & Revocation.session.is_in(SessionGate.select(SessionGate.session).where(SessionGate.gate == gate.id))
        )
        .order_by(Revocation.id)
    )
    upto = max([since, await _revocation_seq()])
    last = {r["ticket"]: r["restored"] for r in rows}  # in log order: the last entry per ticket wins
    return {
        "since": since,
        "upto": upto,
        "revoked": sorted(t for t, restored in last.items() if not restored),
        "restored": sorted(t for t, restored in last.items() if restored),
    }


async def snapshot(gate: GateInfo, now: dt.datetime | None = None) -> dict[str, Any]:
    """The offline cache of one gate (JSON-ready). Sessions: those the gate admits whose admission has
    not closed more than SYNC_HORIZON ago. Three queries whatever the number of tickets."""
    now = now or utcnow()
    revocation_seq = await _revocation_seq()  # read first: a delta since it covers whatever the snapshot misses
    sessions = await SessionGate.select(
        SessionGate.session.id,
        SessionGate.sections,
        SessionGate.session.admission_opens_at,
        SessionGate.session.admission_closes_at,
        SessionGate.session.reentry_allowed,
        SessionGate.session.seated,
    ).where(
        (SessionGate.gate == gate.id)
        & (SessionGate.session.admission_closes_at > now - SYNC_HORIZON)
        & (SessionGate.session.status != "cancelled")
    )
    session_ids = [s["session.id"] for s in sessions] or [-1]
    tickets = await Ticket.select(
        Ticket.id,
        Ticket.session,
        Ticket.status,
        Ticket.short_code,
        Ticket.concession,
        Ticket.order.status,
        Ticket.seat.section,
    ).where(Ticket.session.is_in(session_ids))
    limited = {s["session.id"] for s in sessions if s["session.seated"] and parse_sections(s["sections"])}
    ticket_sections = _ticket_sections(tickets, limited)
    refused = {
        t["id"]: "revoked" if t["status"] == "revoked" or t["order.status"] in VOID_ORDER_STATUSES else "unpaid"
        for t in tickets
        if t["status"] == "revoked" or t["order.status"] not in PAID_ORDER_STATUSES
    }
    holders = await realname.holders_of_sessions(session_ids)
    admitted = await Admission.select(
        Admission.ticket, Admission.inside, Admission.first_entry_at, Admission.first_gate.code
    ).where(Admission.session.is_in(session_ids))
    return {
        "gate": gate.code,
        "venue_id": gate.venue_id,
        "synced_at": now.isoformat(),
        "revocation_seq": revocation_seq,
        "revocations_at": now.isoformat(),
        "public_keys": {str(k): v for k, v in keyring().export_public().items()},
        "sessions": [
            {
                "id": s["session.id"],
                "opens_at": s["session.admission_opens_at"].isoformat(),
                "closes_at": s["session.admission_closes_at"].isoformat(),
                "reentry_allowed": bool(s["session.reentry_allowed"]),
                "sections": s["sections"] or "",
                **({"ticket_sections": ticket_sections[s["session.id"]]} if s["session.id"] in ticket_sections else {}),
            }
            for s in sessions
        ],
        # typed short numbers: {number: [ticket id, session id, 1 for a concession ticket else 0]}
        "short_codes": {
            t["short_code"]: [t["id"], t["session"], 1 if t["concession"] else 0] for t in tickets if t["short_code"]
        },
        "revoked": sorted(t for t, why in refused.items() if why == "revoked"),
        "unpaid": sorted(t for t, why in refused.items() if why == "unpaid"),
        # real-name sessions (issue 13): {ticket id: {"name", "id_masked"}} so an offline gate shows the holder
        "holders": {str(ticket): holder for ticket, holder in holders.items()},
        "admitted": [
            {
                "ticket": a["ticket"],
                "inside": bool(a["inside"]),
                "first_entry_at": a["first_entry_at"].isoformat(),
                "first_gate": a["first_gate.code"],
            }
            for a in admitted
        ],
    }


CONFLICT_SQL = """
INSERT INTO gate_conflict (ticket, session, gate, scan, at, first_gate, first_entry_at, detected_at, resolved)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, false)
"""
JOURNAL_FIELDS = ("nonce", "code", "direction", "at", "status", "reason_code")
MAX_JOURNAL_ENTRIES = 5000  # per request of the journal API; a longer journal goes up in several requests


def _parse_entry(entry: dict[str, Any]) -> tuple[str, str, Direction, dt.datetime, Status, str]:
    try:
        at = dt.datetime.fromisoformat(str(entry["at"]))
        values = (
            str(entry["nonce"]),
            str(entry["code"]),
            Direction(entry["direction"]),
            at,
            Status(entry["status"]),
            str(entry["reason_code"]),
        )
    except (KeyError, ValueError, TypeError):
        raise InvalidInput(
            "Each journal entry needs {fields}.", field="entries", fields=", ".join(JOURNAL_FIELDS)
        ) from None
    if at.tzinfo is None or not 1 <= len(values[0]) <= 80:
        raise InvalidInput("Each journal entry needs {fields}.", field="entries", fields=", ".join(JOURNAL_FIELDS))
    return values


async def _apply_admission(db, ticket: dict, gate: GateInfo, at: dt.datetime, direction: Direction) -> dict | None:
    """Write an offline `ok` into presence. Returns the earlier presence when it collides (a conflict)."""
    if direction is Direction.OUT:
        await write_presence(db, False, ticket["id"], ticket["session"], gate.id, at, direction)
        return None
    if await write_presence(db, True, ticket["id"], ticket["session"], gate.id, at, direction):
        return None
    presence = await presence_row(db, ticket["id"])
    reentered = not presence["inside"] and ticket["session.reentry_allowed"]
    if reentered and await write_presence(db, False, ticket["id"], ticket["session"], gate.id, at, direction):
        return None
    return presence


async def apply_journal(
    actor: Actor, gate: GateInfo, entries: list[dict[str, Any]], *, device_id: int | None = None
) -> dict[str, int]:
    """Record a scanner's offline journal. Each entry: {"nonce", "code", "direction", "at" (ISO with zone),
    "status" (the verdict the scanner showed), "reason_code"}. Idempotent by nonce: uploading the same
    journal twice records nothing twice. Returns {"recorded", "already_recorded", "conflicts"}."""
    parsed = sorted((_parse_entry(e) for e in entries), key=lambda e: e[3])
    counts = {"recorded": 0, "already_recorded": 0, "conflicts": 0}
    for nonce, code, direction, at, status, reason_code in parsed:
        number = normalise(code)
        claim = None if number else keyring().verify(code)
        ticket = None
        if claim or (number and check_digit_ok(number)):
            found = (
                (Ticket.short_code == number)
                if number
                else ((Ticket.id == claim.ticket_id) & (Ticket.session == claim.session_id))
            )
            ticket = await Ticket.select(Ticket.id, Ticket.session, Ticket.session.reentry_allowed).where(found).first()
        result = {
            "status": status.value,
            "reason_code": reason_code,
            "offline": True,
            "ticket_id": ticket["id"] if ticket else None,
        }
        if status is Status.OK and ticket is None:
            # The device admitted a code that is no ticket of ours (forged, unsigned or unknown): recorded as the
            # refusal it is, with what the device showed, never as an entry.
            status = Status.INVALID
            unreadable = claim is None and not number
            result |= {"status": status.value, "reason_code": "unreadable" if unreadable else "unknown"}
            result["device_status"] = "ok"
        try:
            async with connection() as db, db.writing(transaction=True):
                earlier = None
                if status is Status.OK and ticket is not None:
                    earlier = await _apply_admission(db, ticket, gate, at, direction)
                scan_id = await insert_scan(
                    db,
                    at=at,
                    gate=gate,
                    device_id=device_id,
                    attendant_id=actor.user_id,
                    session_id=ticket["session"] if ticket else None,
                    ticket_id=ticket["id"] if ticket else None,
                    direction=direction,
                    result=result,
                    offline=True,
                    nonce=f"{gate.code}:{nonce}",
                )
                if earlier is not None:
                    await db.fetch(
                        CONFLICT_SQL,
                        ticket["id"],
                        ticket["session"],
                        gate.id,
                        scan_id,
                        at,
                        earlier["first_gate_id"],
                        earlier["first_entry_at"],
                        utcnow(),
                    )
                    counts["conflicts"] += 1
            counts["recorded"] += 1
        except Replayed:
            counts["already_recorded"] += 1
    if counts["recorded"]:
        await record(actor, "gate.journal.upload", "gate", gate.id, summary=f"{gate.code}: {counts}", after=counts)
        await announce(None)  # live dashboards: offline scans and conflicts (db/gate/live.py)
    return counts
