"""Write and read audit entries. Operations call `record` inside their own transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.audit.tables import AuditEntry
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import case_insensitive_like, reports_node
from db.core.rows import Shape

AUDIT = Shape(
    AuditEntry,
    columns=(
        "at",
        "actor_id",
        "actor_name",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "summary",
        "before",
        "after",
    ),
    defaulted=("chain_seq", "chain_hash"),  # given later by the sealer (db/audit/chain.py)
)


def entry(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one audit entry (shape AUDIT), for `record` and the hot paths' statements."""
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "summary": summary,
        "before": before,
        "after": after,
    }


async def record(actor: Actor, action: str, object_type: str, object_id: object = "", **details: Any) -> None:
    """Write one audit entry inside the caller's transaction (`details`: summary, before, after; see `entry`)."""
    await AuditEntry.insert(AuditEntry(**entry(actor, action, object_type, object_id, **details))).run()


async def search(
    *,
    action: str | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Entries newest first. `action` is a prefix ("price." finds price.schedule and price.cancel), `actor`
    a part of the actor's name, `object_type` exact; `since` inclusive and `until` exclusive (UTC)."""
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(limit).offset(offset)
    if action:
        query = query.where(AuditEntry.action.like(f"{action}%"))
    if actor:
        query = query.where(case_insensitive_like(AuditEntry.actor_name, f"%{actor}%"))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return await query.output(load_json=True).run(node=reports_node())


async def object_types() -> list[str]:
    rows = (
        await AuditEntry.select(AuditEntry.object_type)
        .distinct()
        .order_by(AuditEntry.object_type)
        .run(node=reports_node())
    )
    return [r["object_type"] for r in rows]
