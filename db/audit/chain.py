"""The tamper-evident audit chain (R6.3, issue 14): every audit entry gets a place in one chain and a hash
over its content and the hash of the entry before it, so an entry edited or deleted afterwards is found.

Writers do not take part. The hot paths write their audit row inside the one statement that sells or admits
(db/sales/ordering/rush.py, db/gate/presence.py); making them read the previous hash would serialise every sale
behind one lock and add a round trip. Instead a *sealer* (`seal`, run every few seconds by the service and
by `python -m db.audit seal`) takes the committed entries that have no place yet, in id order, and gives them
the next places (`chain_seq`) and their hashes (`chain_hash`). On PostgreSQL an entry with a lower id can
commit after one with a higher id (ids are taken before commit); it simply gets a later place in the next
run. Two sealers never fork the chain: each run holds a transaction-level advisory lock (PostgreSQL) or the
write lock (SQLite, BEGIN IMMEDIATE), and `chain_seq` is unique, so a second chain head cannot exist.

The hash is an HMAC-SHA256 with a key kept outside the database (AUDIT_CHAIN_KEY, else var/audit_chain.key):
someone who can write the database but does not hold the key cannot rebuild the chain after an edit. Each
run also records the head it left (table audit_seal), so cutting entries off the end is found too. What the
chain cannot see: an entry changed in the seconds between its commit and the next seal."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from db.audit.tables import AuditEntry, AuditSeal
from db.core.engine import is_postgres, secret
from db.core.transaction import write_transaction

GENESIS = "0" * 64
SEAL_BATCH = 5000
VERIFY_PAGE = 5000
_ADVISORY_LOCK = 0x7C_A0D17  # the sealer's pg_advisory_xact_lock key
_COLUMNS = "id, at, actor_id, actor_name, actor_role, action, object_type, object_id, summary, before, after"

# What verify found, as English message ids (translations/*/LC_MESSAGES/admin.po); {seq} is the place in
# the chain, {entry} the entry's id.
PROBLEM_CHANGED = "Entry #{entry} (place {seq} in the chain) was changed after it was sealed."
PROBLEM_MISSING = "The entry at place {seq} in the chain is missing (deleted); the chain goes on at entry #{entry}."
PROBLEM_CUT = "The chain ends at place {seq}, but it was sealed up to place {sealed}: entries were deleted at its end."
PROBLEM_HEAD = "The entry at place {seq} (#{entry}) does not match the head recorded when it was sealed."


@cache
def _key() -> bytes:
    return secret("AUDIT_CHAIN_KEY", "audit_chain.key").encode()


def _utc_text(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_value(value: Any) -> Any:
    """A JSON column as one canonical value, whether the driver gave text (both engines) or a structure."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def entry_hash(previous: str, seq: int, row: dict[str, Any]) -> str:
    """The chain hash of one entry at place `seq`, after the entry whose hash is `previous`."""
    content = [
        seq,
        row["id"],
        _utc_text(row["at"]),
        row["actor_id"],
        row["actor_name"],
        row["actor_role"],
        row["action"],
        row["object_type"],
        row["object_id"],
        row["summary"],
        _json_value(row["before"]),
        _json_value(row["after"]),
    ]
    text = previous + "\n" + json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def _is_postgres() -> bool:
    return is_postgres(AuditEntry._meta.db)


async def _seal_batch(limit: int) -> int:
    engine = AuditEntry._meta.db
    async with write_transaction(engine):
        if _is_postgres():
            await AuditEntry.raw("SELECT pg_advisory_xact_lock({})", _ADVISORY_LOCK).run()
        head = await AuditEntry.raw(
            "SELECT chain_seq, chain_hash FROM audit_entry WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1"
        ).run()
        seq, previous = (head[0]["chain_seq"], head[0]["chain_hash"]) if head else (0, GENESIS)
        rows = await AuditEntry.raw(
            f"SELECT {_COLUMNS} FROM audit_entry WHERE chain_seq IS NULL ORDER BY id LIMIT {{}}", limit
        ).run()
        if not rows:
            return 0
        first = seq + 1
        ids, places, hashes = [], [], []
        for row in rows:
            seq += 1
            previous = entry_hash(previous, seq, row)
            ids.append(row["id"])
            places.append(seq)
            hashes.append(previous)
        if _is_postgres():
            await AuditEntry.raw(
                "UPDATE audit_entry AS a SET chain_seq = v.seq, chain_hash = v.hash "
                "FROM unnest({}::int[], {}::int[], {}::varchar[]) AS v(id, seq, hash) WHERE a.id = v.id",
                ids,
                places,
                hashes,
            ).run()
        else:
            await AuditEntry.raw(
                "UPDATE audit_entry SET chain_seq = v.seq, chain_hash = v.hash FROM ("
                "SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS seq, "
                "json_extract(value, '$[2]') AS hash FROM json_each({})) AS v WHERE audit_entry.id = v.id",
                json.dumps([list(t) for t in zip(ids, places, hashes, strict=True)]),
            ).run()
        await AuditSeal.insert(
            AuditSeal(
                sealed_at=dt.datetime.now(dt.UTC), first_seq=first, last_seq=seq, last_hash=previous, entries=len(rows)
            )
        ).run()
        return len(rows)


async def seal(batch: int = SEAL_BATCH) -> int:
    """Give every committed entry without a place in the chain its place and hash; the number sealed."""
    total = 0
    while True:
        sealed = await _seal_batch(batch)
        total += sealed
        if sealed < batch:
            return total


@dataclass(frozen=True, slots=True)
class Problem:
    message: str  # an English msgid with {seq}, {entry}, {sealed}
    seq: int
    entry: int | None = None
    sealed: int | None = None

    def text(self, translate=None) -> str:
        message = translate(self.message) if translate else self.message
        return message.format(seq=self.seq, entry=self.entry, sealed=self.sealed)


@dataclass(frozen=True, slots=True)
class Verdict:
    checked: int  # entries verified in chain order
    unsealed: int  # entries that have no place yet (the sealer has not run since they were written)
    head_seq: int
    last_sealed_at: dt.datetime | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify() -> Verdict:
    """Walk the chain in order and recompute every hash; the first problem found, if any. The recorded head
    is read first, so entries sealed while the walk runs are checked too but never taken for a cut."""
    heads = await AuditSeal.select().order_by(AuditSeal.last_seq, ascending=False).limit(1)
    head = heads[0] if heads else None
    seq, previous, checked, problem, hash_at_head = 0, GENESIS, 0, None, None
    while problem is None:
        rows = await AuditEntry.raw(
            f"SELECT {_COLUMNS}, chain_seq, chain_hash FROM audit_entry WHERE chain_seq > {{}} "
            "ORDER BY chain_seq LIMIT {}",
            seq,
            VERIFY_PAGE,
        ).run()
        for row in rows:
            expected = seq + 1
            if row["chain_seq"] != expected:
                problem = Problem(PROBLEM_MISSING, seq=expected, entry=row["id"])
                break
            if entry_hash(previous, expected, row) != row["chain_hash"]:
                problem = Problem(PROBLEM_CHANGED, seq=expected, entry=row["id"])
                break
            seq, previous, checked = expected, row["chain_hash"], checked + 1
            if head is not None and seq == head["last_seq"]:
                hash_at_head = (row["id"], previous)
        if len(rows) < VERIFY_PAGE:
            break
    if problem is None and head is not None:
        if hash_at_head is None:
            problem = Problem(PROBLEM_CUT, seq=seq, sealed=head["last_seq"])
        elif hash_at_head[1] != head["last_hash"]:
            problem = Problem(PROBLEM_HEAD, seq=head["last_seq"], entry=hash_at_head[0])
    unsealed = await AuditEntry.count().where(AuditEntry.chain_seq.is_null())
    return Verdict(
        checked=checked,
        unsealed=unsealed,
        head_seq=seq,
        last_sealed_at=head["sealed_at"] if head else None,
        problem=problem,
    )


async def status() -> dict[str, Any]:
    """The chain's head and last seal, for the administrator's page (no walk)."""
    heads = await AuditSeal.select().order_by(AuditSeal.last_seq, ascending=False).limit(1)
    unsealed = await AuditEntry.count().where(AuditEntry.chain_seq.is_null())
    return {"head": heads[0] if heads else None, "unsealed": unsealed}
