"""Refund and exchange policy versions (R1.1, R5.1, R10.1): stored, never changed, resolved per event.

The version in force for an event is the newest version of that event, else the newest of its kind, else
the newest default ('' kind). Every ticket records the version in force when it was issued (the buyer's
contract); a refund quotes that version and the one in force now and takes the better for the buyer, so
a later change never worsens an already-sold ticket's terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from db.audit.record import record
from db.catalog.tables import Event
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import InvalidInput, NotFound, PermissionDenied
from db.core.transaction import queued_write
from db.sales.aftersale.rules import DEFAULT_RULES, Rules, parse_rules
from db.sales.aftersale.tables import AftersalePolicy
from db.staff.permissions import Permission, role_allows

EVENT_KINDS = ("performance", "film", "sport", "attraction")

# The version in force for the session {} (one scalar subquery: used inside the statements that issue tickets).
IN_FORCE_FOR_SESSION_SQL = """(SELECT p.id FROM aftersale_policy p
    JOIN event_session ps ON ps.id = {}
    JOIN event pe ON pe.id = ps.event
    WHERE p.event = pe.id OR (p.event IS NULL AND (p.event_kind = pe.kind OR p.event_kind = ''))
    ORDER BY CASE WHEN p.event IS NOT NULL THEN 0 WHEN p.event_kind <> '' THEN 1 ELSE 2 END, p.id DESC LIMIT 1)"""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int
    event_kind: str
    event_id: int | None
    rules: Rules
    reason: str
    created_by_name: str
    created_at: dt.datetime | None


def _version(row: Mapping[str, Any]) -> PolicyVersion:
    return PolicyVersion(
        row["id"],
        row["event_kind"],
        row["event"],
        parse_rules(row["rules"]),
        row["reason"],
        row["created_by_name"],
        row["created_at"],
    )


async def get_version(version: int | None) -> PolicyVersion:
    """A stored version; None (a ticket older than versions) is the first version there is."""
    query = AftersalePolicy.select().output(load_json=True)
    if version is None:
        row = await query.order_by(AftersalePolicy.id).first()
        if row is None:
            return PolicyVersion(0, "", None, DEFAULT_RULES, "", "system", None)
    else:
        row = await query.where(AftersalePolicy.id == version).first()
    if row is None:
        raise NotFound("No such policy version.")
    return _version(row)


async def in_force(event_id: int) -> PolicyVersion:
    """The version in force for an event now."""
    event = await Event.select(Event.kind).where(Event.id == event_id).first()
    if event is None:
        raise NotFound("No such event.")
    rows = (
        await AftersalePolicy.select()
        .where(
            (AftersalePolicy.event == event_id)
            | (AftersalePolicy.event.is_null() & AftersalePolicy.event_kind.is_in([event["kind"], ""]))
        )
        .output(load_json=True)
    )
    if not rows:
        return await get_version(None)

    def rank(row: Mapping[str, Any]) -> tuple[int, int]:
        scope = 0 if row["event"] is not None else 1 if row["event_kind"] else 2
        return scope, -row["id"]

    return _version(min(rows, key=rank))


async def in_force_for_session(session_id: int) -> PolicyVersion:
    """The version in force now for a session's event (shown before payment)."""
    from db.catalog.tables import EventSession

    row = await EventSession.select(EventSession.event).where(EventSession.id == session_id).first()
    if row is None:
        raise NotFound("No such session.")
    return await in_force(row["event"])


async def history(*, event_kind: str | None = None, event_id: int | None = None) -> list[PolicyVersion]:
    """Every version, newest first; of one kind or one event when given."""
    query = AftersalePolicy.select().order_by(AftersalePolicy.id, ascending=False).output(load_json=True)
    if event_id is not None:
        query = query.where(AftersalePolicy.event == event_id)
    elif event_kind is not None:
        query = query.where(AftersalePolicy.event.is_null() & (AftersalePolicy.event_kind == event_kind))
    return [_version(row) for row in await query]


async def save_version(
    actor: Actor,
    raw_rules: Mapping[str, Any],
    *,
    reason: str,
    event_kind: str = "",
    event_id: int | None = None,
    now: dt.datetime | None = None,
) -> PolicyVersion:
    """Add a version for a kind ('' = default) or one event; the rules are checked first (InvalidInput)."""
    if not role_allows(actor.role, Permission.AFTERSALE_POLICY_EDIT) and actor.role != "system":
        raise PermissionDenied("Only a supervisor edits the refund and exchange rules.")
    rules = parse_rules(raw_rules)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the rules change.", field="reason")
    if event_kind not in ("", *EVENT_KINDS):
        raise InvalidInput("No such event kind.", field="event_kind")
    if event_id is not None:
        if not await Event.exists().where(Event.id == event_id):
            raise NotFound("No such event.")
        event_kind = ""
    now = now or utcnow()
    async with queued_write(AftersalePolicy._meta.db):
        row = (
            await AftersalePolicy.insert(
                AftersalePolicy(
                    event_kind=event_kind,
                    event=event_id,
                    rules=rules.as_json(),
                    reason=reason[:2000],
                    created_by=actor.user_id,
                    created_by_name=actor.name,
                    created_at=now,
                )
            ).returning(AftersalePolicy.id)
        )[0]
        await record(
            actor,
            "aftersale.policy",
            "aftersale_policy",
            row["id"],
            summary=reason[:200],
            after={"event_kind": event_kind, "event": event_id, "rules": rules.as_json()},
        )
    return await get_version(row["id"])


async def ensure_default(actor: Actor) -> None:
    """The default version, when there is none yet (fresh databases; the migration makes it in existing ones)."""
    if not await AftersalePolicy.exists():
        await save_version(actor, DEFAULT_RULES.as_json(), reason="默认退换票规则（开业规则）")
