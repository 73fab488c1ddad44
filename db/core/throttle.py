"""Rate limits (the public shop's order lookup and order placing), kept in the database so that they hold
across workers and restarts, in their own table (db/core/tables.py RateAttempt).

Each attempt is first written (committed at once, so concurrent attempts see each other) and then counted:
of N simultaneous attempts at most `limit` get through, on SQLite and PostgreSQL alike. The rows double as
the record of who tried what (R6.3) for KEEP_ATTEMPTS: the client is a pseudonym (a keyed hash of its
address, never the address itself), the key what it tried (an order code)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from db.core.clock import utcnow
from db.core.errors import DomainError
from db.core.tables import RateAttempt

KEEP_ATTEMPTS = dt.timedelta(days=30)


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


async def _count(action: str, since: dt.datetime, *, client: str | None = None, key: str | None = None) -> int:
    condition = (RateAttempt.action == action) & (RateAttempt.at >= since)
    if client is not None:
        condition &= RateAttempt.client == client
    if key is not None:
        condition &= RateAttempt.key == key
    return await RateAttempt.count().where(condition)


async def attempt(client: str, action: str, per_client: Limit, key: str = "", per_key: Limit | None = None) -> None:
    """Record one attempt of `client` (on `key`) and refuse it with TooManyRequests when it goes over a limit."""
    now = utcnow()
    await RateAttempt.insert(RateAttempt(action=action, client=client, key=key[:64], at=now))
    over = await _count(action, now - per_client.window, client=client) > per_client.attempts
    if per_key is not None and not over:
        over = await _count(action, now - per_key.window, key=key[:64]) > per_key.attempts
    if over:
        window = max(per_client.window, per_key.window if per_key else per_client.window)
        raise TooManyRequests(
            "Too many attempts. Wait {minutes} minutes and try again.", minutes=int(window.total_seconds() // 60)
        )


async def forget_old_attempts(now: dt.datetime | None = None) -> int:
    """Delete the attempts older than KEEP_ATTEMPTS (a periodic job, web/jobs.py); returns how many."""
    cutoff = (now or utcnow()) - KEEP_ATTEMPTS
    rows = await RateAttempt.delete().where(RateAttempt.at < cutoff).returning(RateAttempt.id)
    return len(rows)
