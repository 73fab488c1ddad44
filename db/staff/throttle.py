"""Sign-in throttling (issue 9, defects 3 and 4): limits that hold under concurrency and cannot be turned
against a staff member.

Each limit is a counter row per key in its own table (staff_login_throttle), taken with ONE conditional
upsert before the password is checked: of N simultaneous attempts at most `limit` get a row back, on
SQLite and PostgreSQL alike (the row is written under its lock; no count-then-record race). A success
clears the account's counters.

- account + address: MAX_FAILURES_PER_PAIR attempts per window, then 429 for that address only;
- address: MAX_FAILURES_PER_CLIENT attempts per window over all accounts (one address guessing many);
- account from anywhere: never locked; after FREE_ACCOUNT_FAILURES attempts every further one waits a
  delay that doubles up to MAX_DELAY, so the owner still signs in while a spread-out guesser is slowed.
A supervisor clears an account's counters from /staff/sign-in-limits (permission staff.unlock), audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.transaction import write_transaction
from db.staff.tables import LoginThrottle

WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_CLIENT = 50  # failures (and sign-ins in flight): a box office signs many sellers in at once
FREE_ACCOUNT_FAILURES = 5
BASE_DELAY = 0.5  # seconds, doubling with every further attempt on the account in the window
MAX_DELAY = 8.0

# One statement: start a new window, or count one more attempt while under the limit. No row back: over.
TAKE_SQL = """
INSERT INTO staff_login_throttle ("key", username, attempts, window_started_at) VALUES ({}, {}, 1, {})
ON CONFLICT ("key") DO UPDATE SET
    attempts = CASE WHEN staff_login_throttle.window_started_at < {} THEN 1
                    ELSE staff_login_throttle.attempts + 1 END,
    window_started_at = CASE WHEN staff_login_throttle.window_started_at < {} THEN excluded.window_started_at
                             ELSE staff_login_throttle.window_started_at END
WHERE staff_login_throttle.window_started_at < {} OR staff_login_throttle.attempts < {}
RETURNING attempts
"""


def pair_key(username: str, client: str) -> str:
    return f"pair:{username[:64]}|{client[:64]}"


def client_key(client: str) -> str:
    return f"client:{client[:64]}"


def account_key(username: str) -> str:
    return f"account:{username[:64]}"


async def _take(key: str, username: str | None, limit: int, now: dt.datetime) -> int | None:
    """Count one attempt on `key`; its number in the window, or None when the limit is reached."""
    since = now - WINDOW
    async with write_transaction(LoginThrottle._meta.db):
        rows = await LoginThrottle.raw(TAKE_SQL, key, username, now, since, since, since, limit)
    return rows[0]["attempts"] if rows else None


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    delay: float = 0.0  # seconds to wait before checking the password


def account_delay(attempts: int) -> float:
    over = attempts - FREE_ACCOUNT_FAILURES
    return 0.0 if over <= 0 else min(MAX_DELAY, BASE_DELAY * 2 ** (over - 1))


async def admit(username: str, client: str) -> Admission:
    """Take this attempt's place in every limit before the password is checked."""
    now = utcnow()
    username = username[:64]
    if await _take(pair_key(username, client), username, MAX_FAILURES_PER_PAIR, now) is None:
        return Admission(False)
    if await _take(client_key(client), None, MAX_FAILURES_PER_CLIENT, now) is None:
        return Admission(False)
    attempts = await _take(account_key(username), username, 2**31 - 1, now)
    return Admission(True, account_delay(attempts or 0))


async def succeeded(username: str, client: str) -> None:
    """A correct password (inside the sign-in's transaction): the account's counters start again, and the
    address gives back this attempt's place (it counts failures: a box office behind one address signs in
    many sellers at the start of a shift)."""
    username = username[:64]
    await LoginThrottle.delete().where(LoginThrottle.key.is_in([pair_key(username, client), account_key(username)]))
    await LoginThrottle.update({LoginThrottle.attempts: LoginThrottle.attempts - 1}).where(
        (LoginThrottle.key == client_key(client)) & (LoginThrottle.attempts > 0)
    )


async def limited_accounts() -> list[dict]:
    """Accounts slowed (a delay per attempt) or refused at some address now, for the supervisor's unlock page."""
    rows = await LoginThrottle.select().where(
        LoginThrottle.username.is_not_null() & (LoginThrottle.window_started_at >= utcnow() - WINDOW)
    )
    accounts: dict[str, dict] = {}
    for row in rows:
        entry = accounts.setdefault(
            row["username"], {"username": row["username"], "attempts": 0, "delay": 0.0, "blocked_addresses": 0}
        )
        if row["key"] == account_key(row["username"]):
            entry["attempts"], entry["delay"] = row["attempts"], account_delay(row["attempts"])
        elif row["attempts"] >= MAX_FAILURES_PER_PAIR:
            entry["blocked_addresses"] += 1
    limited = (a for a in accounts.values() if a["delay"] or a["blocked_addresses"])
    return sorted(limited, key=lambda a: a["username"])


async def unlock(actor: Actor, username: str) -> int:
    """Clear every counter of `username` (all addresses); audited. Returns how many were cleared."""
    async with write_transaction(LoginThrottle._meta.db):
        cleared = await LoginThrottle.count().where(LoginThrottle.username == username)
        await LoginThrottle.delete().where(LoginThrottle.username == username)
        await record(actor, "staff.sign_in_unlock", "staff_user", username, after={"cleared": cleared})
    return cleared
