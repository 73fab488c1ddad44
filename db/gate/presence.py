"""Presence writes and scan records: the statements that make "exactly one ok per ticket and entry".

Each write is one conditional statement whose RETURNING row says whether this scan won: a first entry
is INSERT ... ON CONFLICT (ticket) DO NOTHING, an exit or a re-entry an UPDATE ... WHERE inside = <the
expected state>. Under any concurrency only one of them returns a row (PostgreSQL's unique index and
row locks; SQLite's immediate write transactions).

`connection()` gives one scan one connection: on PostgreSQL an asyncpg connection checked out of the
engine's pool once per scan, running these statements directly (prepared and cached per connection, no
ORM objects: the redeem hot path); on SQLite (or without a pool) Piccolo raw queries and an immediate
write transaction. The statements are written once, with Piccolo's `{}` placeholders, and the rows they
insert have one shape each (ADMISSION, SCAN; db/core/rows.py), built by one function each."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from db.core import pg
from db.core.clock import utcnow
from db.core.engine import is_postgres
from db.core.rows import Shape
from db.core.transaction import write_transaction
from db.gate.devices import GateInfo
from db.gate.live import CHANNEL
from db.gate.rules import Direction
from db.gate.tables import Admission, Scan

PRESENCE_SQL = """
SELECT a.inside, a.first_entry_at, g.code AS first_gate, a.first_gate AS first_gate_id
FROM gate_admission a JOIN gate g ON g.id = a.first_gate WHERE a.ticket = {}
"""

# A first entry needs the ticket still issued, read in the same statement: a refund revokes the code and then
# checks for an entry, so a refund and a scan of one ticket cannot both win (issue 11). On PostgreSQL the
# read takes a share lock on the ticket row, which the refund's UPDATE waits for (and vice versa); on SQLite
# both run inside immediate write transactions, one after the other.
_TICKET_LIVE = "EXISTS (SELECT 1 FROM ticket WHERE id = {} AND status = 'issued' LOCK)"


def _live(engine_is_postgres: bool) -> str:
    return _TICKET_LIVE.replace(" LOCK", " FOR SHARE" if engine_is_postgres else "")


ADMISSION = Shape(
    Admission,
    columns=(
        "ticket",
        "session",
        "inside",
        "entries",
        "exits",
        "first_entry_at",
        "first_gate",
        "last_scan_at",
        "last_gate",
    ),
)
SCAN = Shape(
    Scan,
    columns=(
        "at",
        "recorded_at",
        "gate",
        "device",
        "attendant",
        "session",
        "ticket",
        "direction",
        "status",
        "reason",
        "offline",
        "nonce",
        "result",
    ),
)


def _first_entry_sql(postgres: bool) -> str:
    return f"""
{ADMISSION.insert(where=_live(postgres))}
ON CONFLICT (ticket) DO NOTHING RETURNING id
"""


FIRST_ENTRY_SQL = {True: _first_entry_sql(True), False: _first_entry_sql(False)}

REENTRY_SQL = """
UPDATE gate_admission SET inside = true, entries = entries + 1, last_scan_at = {}, last_gate = {}
WHERE ticket = {} AND inside = false RETURNING id
"""

EXIT_SQL = """
UPDATE gate_admission SET inside = false, exits = exits + 1, last_scan_at = {}, last_gate = {}
WHERE ticket = {} AND inside = true RETURNING id
"""

SCAN_SQL = f"""
{SCAN.insert()}
ON CONFLICT (nonce) DO NOTHING RETURNING id
"""


# PostgreSQL only (SQLite has no data-modifying CTEs): a first entry, its Scan row and the live dashboards'
# notification (db/gate/live.py, delivered at commit) in ONE statement, atomic without BEGIN/COMMIT. No
# row back: the ticket was admitted meanwhile (or the nonce is taken, which raises a unique violation and
# writes nothing); the caller then takes the careful path.
FIRST_ENTRY_WITH_SCAN_SQL = f"""
WITH admitted AS (
    {ADMISSION.insert(where=_live(True))}
    ON CONFLICT (ticket) DO NOTHING RETURNING id
), scan AS (
    {SCAN.insert(source="admitted")} RETURNING id
)
SELECT id, pg_notify({{}}::text, {{}}::text) IS NULL AS notified FROM scan
"""


def first_entry_row(ticket_id: int, session_id: int, gate_id: int, at: dt.datetime) -> dict[str, Any]:
    """The presence a first accepted entry creates."""
    return {
        "ticket": ticket_id,
        "session": session_id,
        "inside": True,
        "entries": 1,
        "exits": 0,
        "first_entry_at": at,
        "first_gate": gate_id,
        "last_scan_at": at,
        "last_gate": gate_id,
    }


def scan_row(
    *,
    at: dt.datetime,
    gate_id: int,
    device_id: int | None,
    attendant_id: int | None,
    session_id: int | None,
    ticket_id: int | None,
    direction: Direction,
    result: dict[str, Any],
    offline: bool,
    nonce: str | None,
) -> dict[str, Any]:
    """The record of one scan: when, where, by whom, of what, and the verdict as answered."""
    return {
        "at": at,
        "recorded_at": utcnow(),
        "gate": gate_id,
        "device": device_id,
        "attendant": attendant_id,
        "session": session_id,
        "ticket": ticket_id,
        "direction": direction.value,
        "status": result["status"],
        "reason": result["reason_code"],
        "offline": offline,
        "nonce": nonce,
        "result": result,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Replayed(Exception):
    """A scan with this nonce is recorded already: roll back and answer what was answered then."""


class _Asyncpg:
    one_statement_entry = True
    postgres = True

    def __init__(self, conn) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return await pg.fetch(self.conn, sql, *args)

    def writing(self, transaction: bool):
        """Around a scan's writes: a transaction when there are several statements."""
        return self.conn.transaction() if transaction else contextlib.nullcontext()


_sqlite_writer = asyncio.Lock()


class _Piccolo:
    one_statement_entry = False

    def __init__(self) -> None:
        self.postgres = is_postgres(Scan._meta.db)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return await Scan.raw(sql, *args)

    @asynccontextmanager
    async def writing(self, transaction: bool):
        """SQLite has one writer at a time: this process's scans queue for it in order (an asyncio lock)
        instead of all polling the file lock, which starves some of them for many seconds under load."""
        async with _sqlite_writer, write_transaction(Scan._meta.db) if transaction else contextlib.nullcontext():
            yield


@asynccontextmanager
async def connection() -> AsyncIterator[_Asyncpg | _Piccolo]:
    async with pg.pooled_connection(Scan) as conn:
        yield _Piccolo() if conn is None else _Asyncpg(conn)


async def presence_row(db, ticket_id: int) -> dict | None:
    rows = await db.fetch(PRESENCE_SQL, ticket_id)
    return rows[0] if rows else None


async def write_presence(
    db, first_entry: bool, ticket_id: int, session_id: int, gate_id: int, at: dt.datetime, direction: Direction
) -> bool:
    """The conditional presence write for an accepted scan; False when a concurrent scan got there first.
    Direction out: an exit; in: the first entry (`first_entry`, no presence row yet) or a re-entry."""
    if direction is Direction.OUT:
        rows = await db.fetch(EXIT_SQL, at, gate_id, ticket_id)
    elif first_entry:
        admission = first_entry_row(ticket_id, session_id, gate_id, at)
        rows = await db.fetch(FIRST_ENTRY_SQL[db.postgres], *ADMISSION.values(admission), ticket_id)
    else:
        rows = await db.fetch(REENTRY_SQL, at, gate_id, ticket_id)
    return bool(rows)


async def first_entry_with_scan(
    db: _Asyncpg,
    *,
    ticket_id: int,
    session_id: int,
    gate_id: int,
    at: dt.datetime,
    device_id: int | None,
    attendant_id: int | None,
    result: dict[str, Any],
    nonce: str | None,
) -> bool:
    """The hot path of an accepted first entry on PostgreSQL: True when admitted, recorded and announced."""
    import asyncpg

    try:
        scan = scan_row(
            at=at,
            gate_id=gate_id,
            device_id=device_id,
            attendant_id=attendant_id,
            session_id=session_id,
            ticket_id=ticket_id,
            direction=Direction.IN,
            result=result,
            offline=False,
            nonce=nonce,
        )
        rows = await db.fetch(
            FIRST_ENTRY_WITH_SCAN_SQL,
            *ADMISSION.values(first_entry_row(ticket_id, session_id, gate_id, at)),
            ticket_id,  # still issued
            *SCAN.values(scan, dumps=_dumps),
            CHANNEL,
            str(session_id),
        )
    except asyncpg.UniqueViolationError:  # the nonce is recorded already: nothing was written
        return False
    return bool(rows)


async def insert_scan(
    db,
    *,
    at: dt.datetime,
    gate: GateInfo,
    device_id: int | None,
    attendant_id: int | None,
    session_id: int | None,
    ticket_id: int | None,
    direction: Direction,
    result: dict[str, Any],
    offline: bool,
    nonce: str | None,
) -> int:
    row = scan_row(
        at=at,
        gate_id=gate.id,
        device_id=device_id,
        attendant_id=attendant_id,
        session_id=session_id,
        ticket_id=ticket_id,
        direction=direction,
        result=result,
        offline=offline,
        nonce=nonce,
    )
    rows = await db.fetch(SCAN_SQL, *SCAN.values(row, dumps=_dumps))
    if not rows:
        raise Replayed
    return rows[0]["id"]
