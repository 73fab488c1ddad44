"""Rate limits of the public shop (order lookup, order placing), kept in the database so that they hold
across workers and restarts.

Each attempt is first written as an audit entry (committed at once, so concurrent attempts see each
other) and then counted: of N simultaneous attempts at most `limit` get through, on SQLite and
PostgreSQL alike. The entries double as the record of who tried what (R6.3): the actor is the client's
pseudonym (a keyed hash of its address, never the address itself), the object the order code tried."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from db.audit.record import record
from db.audit.tables import AuditEntry
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import DomainError


class TooManyRequests(DomainError):
    status_code = 429


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: dt.timedelta


def _limit(env: str, default: int, minutes: int) -> Limit:
    return Limit(int(os.environ.get(env, default)), dt.timedelta(minutes=minutes))


# Per client address and per order code; SHOP_* environment variables raise them (load tests).
LOOKUPS_PER_CLIENT = _limit("SHOP_LOOKUPS_PER_CLIENT", 10, 15)
LOOKUPS_PER_CODE = _limit("SHOP_LOOKUPS_PER_CODE", 5, 15)
ORDERS_PER_CLIENT = _limit("SHOP_ORDERS_PER_CLIENT", 10, 10)

LOOKUP_ATTEMPT = "shop.lookup_attempt"
ORDER_ATTEMPT = "shop.order_attempt"


async def _count(
    action: str, since: dt.datetime, *, actor_name: str | None = None, object_id: str | None = None
) -> int:
    condition = (AuditEntry.action == action) & (AuditEntry.at >= since)
    if actor_name is not None:
        condition &= AuditEntry.actor_name == actor_name
    if object_id is not None:
        condition &= AuditEntry.object_id == object_id
    return await AuditEntry.count().where(condition)


async def attempt(client: str, action: str, per_client: Limit, key: str = "", per_key: Limit | None = None) -> None:
    """Record one attempt of `client` (on `key`) and refuse it with TooManyRequests when it goes over a limit."""
    actor = Actor.customer(client)
    await record(actor, action, "shop_attempt", key[:64])
    now = utcnow()
    over = await _count(action, now - per_client.window, actor_name=actor.name) > per_client.attempts
    if per_key is not None and not over:
        over = await _count(action, now - per_key.window, object_id=key[:64]) > per_key.attempts
    if over:
        window = max(per_client.window, per_key.window if per_key else per_client.window)
        raise TooManyRequests(
            "Too many attempts. Wait {minutes} minutes and try again.", minutes=int(window.total_seconds() // 60)
        )
