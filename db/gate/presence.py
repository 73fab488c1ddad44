"""Presence writes and scan records: the statements that make "exactly one ok per ticket and entry".

Each write is one conditional statement whose RETURNING row says whether this scan won: a first entry
is INSERT ... ON CONFLICT (ticket) DO NOTHING, an exit or a re-entry an UPDATE ... WHERE inside = <the
expected state>. Under any concurrency only one of them returns a row (PostgreSQL's unique index and
row locks; SQLite's immediate write transactions)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from db.audit.record import utcnow
from db.gate.devices import GateInfo
from db.gate.rules import Direction
from db.gate.tables import Scan

PRESENCE_SQL = """
SELECT a.inside, a.first_entry_at, g.code AS first_gate, a.first_gate AS first_gate_id
FROM gate_admission a JOIN gate g ON g.id = a.first_gate WHERE a.ticket = {}
"""

FIRST_ENTRY_SQL = """
INSERT INTO gate_admission (ticket, session, inside, entries, exits, first_entry_at, first_gate, last_scan_at, last_gate)
VALUES ({}, {}, true, 1, 0, {}, {}, {}, {})
ON CONFLICT (ticket) DO NOTHING RETURNING id
"""

REENTRY_SQL = """
UPDATE gate_admission SET inside = true, entries = entries + 1, last_scan_at = {}, last_gate = {}
WHERE ticket = {} AND inside = false RETURNING id
"""

EXIT_SQL = """
UPDATE gate_admission SET inside = false, exits = exits + 1, last_scan_at = {}, last_gate = {}
WHERE ticket = {} AND inside = true RETURNING id
"""

SCAN_SQL = """
INSERT INTO gate_scan (at, recorded_at, gate, device, attendant, session, ticket, direction, status, reason, offline, nonce, result)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
ON CONFLICT (nonce) DO NOTHING RETURNING id
"""


class Replayed(Exception):
    """A scan with this nonce is recorded already: roll back and answer what was answered then."""


async def presence_row(ticket_id: int) -> dict | None:
    rows = await Scan.raw(PRESENCE_SQL, ticket_id)
    return rows[0] if rows else None


async def write_presence(
    first_entry: bool, ticket_id: int, session_id: int, gate_id: int, at: dt.datetime, direction: Direction
) -> bool:
    """The conditional presence write for an accepted scan; False when a concurrent scan got there first.
    Direction out: an exit; in: the first entry (`first_entry`, no presence row yet) or a re-entry."""
    if direction is Direction.OUT:
        rows = await Scan.raw(EXIT_SQL, at, gate_id, ticket_id)
    elif first_entry:
        rows = await Scan.raw(FIRST_ENTRY_SQL, ticket_id, session_id, at, gate_id, at, gate_id)
    else:
        rows = await Scan.raw(REENTRY_SQL, at, gate_id, ticket_id)
    return bool(rows)


async def insert_scan(
    *, at: dt.datetime, gate: GateInfo, device_id: int | None, attendant_id: int | None, session_id: int | None,
    ticket_id: int | None, direction: Direction, result: dict[str, Any], offline: bool, nonce: str | None,
) -> int:
    rows = await Scan.raw(
        SCAN_SQL, at, utcnow(), gate.id, device_id, attendant_id, session_id, ticket_id, direction.value,
        result["status"], result["reason_code"], offline, nonce, json.dumps(result, ensure_ascii=False),
    )
    if not rows:
        raise Replayed
    return rows[0]["id"]
