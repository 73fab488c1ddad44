"""Live entry updates: a recorded scan wakes everyone watching its session, in every process (issue 4).

`announce(session_id)` is called after each recorded scan (db.gate.redeem does it). `subscription(id)`
gives a watcher (the supervisors' dashboard stream) a `Subscription` whose `wait(timeout)` returns True
when a scan of that session (or a scan of no known session) may have been recorded since the last call.

PostgreSQL: announce runs `pg_notify('gate_scan', '<session id>')`; each process that has watchers keeps
one dedicated asyncpg connection that LISTENs on the channel and wakes its own watchers, so a scan made
through another web worker or the camera client reaches every dashboard. SQLite has no NOTIFY: announce
wakes this process's watchers directly, and watchers also poll the newest scan id every POLL_SECONDS,
which catches scans that other processes (the camera client) wrote to the same file. Watchers poll the
same way on PostgreSQL when the LISTEN connection cannot be opened."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Max

from db.core.engine import is_postgres
from db.gate.tables import Scan

CHANNEL = "gate_scan"
POLL_SECONDS = 0.5

log = logging.getLogger(__name__)


class Subscription:
    """One watcher of one session. `wait` returns True on a (possible) change, False on timeout."""

    def __init__(self, hub: _Hub, session_id: int) -> None:
        self.session_id = session_id
        self._hub = hub
        self._event = asyncio.Event()
        self._last_scan_id: int | None = None

    def wake(self, session_id: int | None) -> None:
        if session_id is None or session_id == self.session_id:
            self._event.set()

    async def _newest_scan_changed(self) -> bool:
        """Polling: has a scan been recorded since the last look?"""
        newest = (await Scan.select(Max(Scan.id).as_alias("newest")).first())["newest"] or 0
        changed = self._last_scan_id is not None and newest != self._last_scan_id
        self._last_scan_id = newest
        return changed

    async def wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            step = remaining if self._hub.listening else min(remaining, POLL_SECONDS)
            try:
                await asyncio.wait_for(self._event.wait(), step)
            except TimeoutError:
                if not self._hub.listening and await self._newest_scan_changed():
                    return True
                continue
            self._event.clear()
            if not self._hub.listening:
                await self._newest_scan_changed()  # this scan is reported: the poll must not report it again
            return True


class _Hub:
    """This process's watchers and, on PostgreSQL, the one LISTEN connection that serves them all."""

    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()
        self.connection = None  # asyncpg.Connection while listening
        self._lock = asyncio.Lock()

    @property
    def listening(self) -> bool:
        return self.connection is not None and not self.connection.is_closed()

    def wake(self, session_id: int | None) -> None:
        for subscription in list(self.subscriptions):
            subscription.wake(session_id)

    def _heard(self, _connection, _pid, _channel, payload: str) -> None:
        self.wake(int(payload) if payload.isdigit() else None)

    async def _listen(self, engine: PostgresEngine) -> None:
        import asyncpg

        try:
            connection = await asyncpg.connect(**engine.config)
            await connection.add_listener(CHANNEL, self._heard)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("gate live updates: LISTEN unavailable (%s); watchers poll instead", type(exc).__name__)
            return
        self.connection = connection

    async def add(self, subscription: Subscription) -> None:
        async with self._lock:
            engine = Scan._meta.db
            if is_postgres(engine) and not self.listening:
                await self._listen(engine)
            if not self.listening:
                await subscription._newest_scan_changed()  # where polling starts from
            self.subscriptions.add(subscription)

    async def remove(self, subscription: Subscription) -> None:
        async with self._lock:
            self.subscriptions.discard(subscription)
            if not self.subscriptions and self.connection is not None:
                connection, self.connection = self.connection, None
                await connection.close()


_hub = _Hub()


@asynccontextmanager
async def subscription(session_id: int) -> AsyncIterator[Subscription]:
    """Watch one session's scans for as long as the block runs."""
    watcher = Subscription(_hub, session_id)
    await _hub.add(watcher)
    try:
        yield watcher
    finally:
        await _hub.remove(watcher)


def listening() -> bool:
    """True while this process hears other processes' scans through PostgreSQL NOTIFY (else it polls)."""
    return _hub.listening


def watchers() -> int:
    """How many watchers this process has (the dashboard tests wait until their stream is listening)."""
    return len(_hub.subscriptions)


async def announce(session_id: int | None) -> None:
    """Tell every watcher of `session_id` (None: a scan of no known session, e.g. an unreadable code)
    that a scan was recorded. Call it after the scan's transaction committed."""
    engine = Scan._meta.db
    if not is_postgres(engine):
        _hub.wake(session_id)
        return
    payload = "" if session_id is None else str(session_id)
    if engine.pool is None:
        await Scan.raw("SELECT pg_notify({}, {})", CHANNEL, payload)
        return
    async with engine.pool.acquire() as connection:  # the redeem hot path: no query building
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
