"""What the camera client can check without the database (R9.2), and what it must upload later.

- OfflineCache: the gate's last sync (db.gate.sync.snapshot), persisted to a JSON file so that a client
  restarted during an outage still works. Signatures are checked with the synced PUBLIC keys only.
- Journal: every scan made offline, one JSON line each with its original time and nonce; uploaded on
  reconnect (db.gate.sync.apply_journal), then moved to a ".uploaded" file. Its entries also rebuild the
  client's own local presence after a restart, so it never admits a ticket twice locally.
- The client also logs its online admissions since the last sync (same format), so a restart during an
  outage knows them too; each sync, which includes them, empties that log.
- judge(): the verdict from the cache, the local presence and the same pure rule the server uses. At a
  gate limited to some sections of a seated session the cache knows each synced ticket's section, so a
  ticket of another section is refused as online; a ticket sold since the sync is admitted with the
  attention note that asks the attendant to check the section printed on it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from db.gate.rules import (
    Decision,
    Direction,
    GateFacts,
    Presence,
    SessionFacts,
    Status,
    TicketFacts,
    decide,
    parse_sections,
)
from db.sales.tickets.codes import TicketClaim, verify
from db.sales.tickets.short_numbers import check_digit_ok, normalise

OFFLINE_CONCESSION = "concession"  # the code says "concession" but not which kind; the attendant checks the ID


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _ticket_sections(runs: dict[str, list[list[int]]]) -> dict[int, str]:
    """ticket id -> section ('' for general admission) from the snapshot's {section: [[first, last], ...]}."""
    return {
        ticket_id: section
        for section, pairs in runs.items()
        for first, last in pairs
        for ticket_id in range(first, last + 1)
    }


class OfflineCache:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.public_keys = {
            int(k): Ed25519PublicKey.from_public_bytes(base64.b64decode(v)) for k, v in data["public_keys"].items()
        }
        self.sessions = {
            s["id"]: (
                SessionFacts(
                    dt.datetime.fromisoformat(s["opens_at"]),
                    dt.datetime.fromisoformat(s["closes_at"]),
                    s["reentry_allowed"],
                ),
                parse_sections(s["sections"]),
                _ticket_sections(s["ticket_sections"]) if "ticket_sections" in s else None,
            )
            for s in data["sessions"]
        }
        # typed short numbers -> the claim their ticket's QR code would make (absent from older snapshots)
        self.short_codes = {
            number: TicketClaim(ticket_id, session_id, bool(concession), 0)
            for number, (ticket_id, session_id, concession) in data.get("short_codes", {}).items()
        }
        self.revoked = set(data["revoked"])
        self.unpaid = set(data["unpaid"])
        self.presence = {
            a["ticket"]: Presence(a["inside"], dt.datetime.fromisoformat(a["first_entry_at"]), a["first_gate"])
            for a in data["admitted"]
        }

    def holder(self, ticket_id: int) -> dict[str, str] | None:
        """A real-name ticket's holder (name, masked ID) as synced; None for other tickets or an older snapshot."""
        return self.data.get("holders", {}).get(str(ticket_id))

    @property
    def revocation_seq(self) -> int:
        return int(self.data.get("revocation_seq", 0))

    def add_revocations(self, delta: dict[str, Any], at: dt.datetime) -> None:
        """Merge a revocation delta (db.gate.sync.revocations) received at `at`."""
        self.revoked |= set(delta["revoked"])
        self.revoked -= set(delta.get("restored", ()))  # a declined refund: the ticket is valid again
        self.unpaid -= set(delta["revoked"])
        self.data["revoked"] = sorted(self.revoked)
        self.data["unpaid"] = sorted(self.unpaid)
        self.data["revocation_seq"] = max(self.revocation_seq, int(delta["upto"]))
        self.data["revocations_at"] = at.isoformat()

    def revocations_stale(self, now: dt.datetime, max_age: dt.timedelta) -> bool:
        """The revocation list is older than `max_age`: a refunded ticket may still look valid here."""
        at = self.data.get("revocations_at") or self.data.get("synced_at")
        return at is None or now - dt.datetime.fromisoformat(at) > max_age

    @classmethod
    def load(cls, path: Path) -> OfflineCache | None:
        if not path.exists():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, json.dumps(self.data, ensure_ascii=False))


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def clear(self) -> None:
        _write_atomically(self.path, "")

    def mark_uploaded(self, count: int) -> None:
        """Move the first `count` entries (those uploaded) to the .uploaded file; keep any added since."""
        entries = self.pending()
        done, rest = entries[:count], entries[count:]
        with self.path.with_suffix(self.path.suffix + ".uploaded").open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in done)
        _write_atomically(self.path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in rest))


def judge(
    cache: OfflineCache | None,
    local: dict[int, Presence],
    gate: str,
    code: str,
    now: dt.datetime,
    direction: Direction,
    scanner_session: int | None,
) -> tuple[Decision, TicketClaim | None, Presence | None]:
    """(Decision, the verified claim or None, the presence it was judged with) for a scan decided
    offline. Without a cache nothing verifies. A typed short number is known when the last sync had its
    ticket (a ticket sold since is "unknown" offline: the attendant sends the visitor to the box office or
    scans the QR code)."""
    number = normalise(code)
    if number is not None:
        claim = cache.short_codes.get(number) if cache else None
    else:
        claim = verify(code, cache.public_keys) if cache else None
    if claim is None:
        unknown_gate = GateFacts(0, 0, False, frozenset(), scanner_session)
        mistyped = number is not None and not check_digit_ok(number)
        valid = number is not None and cache is not None
        decision = decide(None, None, unknown_gate, None, now, direction, code_valid=valid, mistyped=mistyped)
        return decision, None, None
    ticket_id = claim.ticket_id
    status = "revoked" if ticket_id in cache.revoked else "issued"
    order_status = "unpaid" if ticket_id in cache.unpaid else "paid"
    session = cache.sessions.get(claim.session_id)
    session_facts, sections, ticket_sections = session or (SessionFacts(now, now, False), frozenset(), None)
    # ticket_sections None: every ticket of the session is general admission, or the gate admits every section
    ticket = TicketFacts(
        ticket_id,
        claim.session_id,
        status,
        order_status,
        OFFLINE_CONCESSION if claim.concession else "",
        (ticket_sections or {}).get(ticket_id) or None,
        None,
        section_known=ticket_sections is None or ticket_id in ticket_sections,
    )
    gate_facts = GateFacts(0, 0, session is not None, sections, scanner_session)
    presence = local.get(ticket_id) or cache.presence.get(ticket_id)
    return decide(ticket, session_facts, gate_facts, presence, now, direction), claim, presence


def remember(
    local: dict[int, Presence],
    ticket_id: int,
    gate: str,
    at: dt.datetime,
    direction: Direction,
    earlier: Presence | None,
) -> None:
    """Update the client's own presence after an offline `ok`."""
    if direction is Direction.OUT:
        if earlier is not None:
            local[ticket_id] = Presence(False, earlier.first_entry_at, earlier.first_gate)
    else:
        local[ticket_id] = Presence(
            True, earlier.first_entry_at if earlier else at, earlier.first_gate if earlier else gate
        )


def replay_journal(entries: list[dict[str, Any]], cache: OfflineCache | None, gate: str) -> dict[int, Presence]:
    """The local presence implied by journaled offline admissions (after a restart while offline)."""
    local: dict[int, Presence] = {}
    for entry in entries:
        if entry["status"] == Status.OK and entry.get("ticket_id") is not None:
            ticket_id = entry["ticket_id"]
            earlier = local.get(ticket_id) or (cache.presence.get(ticket_id) if cache else None)
            remember(
                local, ticket_id, gate, dt.datetime.fromisoformat(entry["at"]), Direction(entry["direction"]), earlier
            )
    return local
