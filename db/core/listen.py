"""Wake-ups across processes over PostgreSQL LISTEN/NOTIFY, no polling: one dedicated asyncpg connection per
process and channel (outside the pool, so a saturated pool never delays a notification) serves every watcher
of that process. A notification's payload names what changed (a session id); a watcher waits for its key.

`Channel.listening` is False on SQLite and when the connection cannot be opened or was lost: the caller
then polls its own change counter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine

from db.core.engine import is_postgres
from db.core.pg import numbered

log = logging.getLogger(__name__)


class Channel:
    """One NOTIFY channel in this process: `watch(key)` gives an asyncio.Event set by each notification whose
    payload is `key` (or empty: everything may have changed)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._events: dict[str, set[asyncio.Event]] = {}
        self._connection = None  # asyncpg.Connection while listening
        self._lock = asyncio.Lock()
        self._query_lock = asyncio.Lock()

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    def _heard(self, _connection, _pid, _channel, payload: str) -> None:
        keys = list(self._events) if not payload else [payload]
        for key in keys:
            for event in self._events.get(key, ()):
                event.set()

    async def _listen(self, engine: Engine) -> None:
        import asyncpg

        try:
            # a bounded connect: an unreachable server must not stall every watcher (they poll meanwhile)
            connection = await asyncpg.connect(**{"timeout": 2, **engine.config})
            await connection.add_listener(self.name, self._heard)
        except (OSError, asyncpg.PostgresError) as exc:  # TimeoutError is an OSError
            log.warning("%s: LISTEN unavailable (%s); watchers poll instead", self.name, type(exc).__name__)
            return
        connection.add_termination_listener(self._lost)
        self._connection = connection

    def _lost(self, _connection) -> None:
        """The LISTEN connection died: forget it (the next watcher opens another) and wake every watcher, so
        that none waits for a notification that can no longer come."""
        self._connection = None
        self._heard(None, None, None, "")

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]] | None:
        """A read on the LISTEN connection itself (`{}` placeholders), outside the pool, so that a pool drained by
        an on-sale rush does not delay the watchers' update; None when not listening (then use the pool)."""
        if not self.listening:
            return None
        async with self._query_lock:  # one statement at a time on the one connection
            return [dict(row) for row in await self._connection.fetch(numbered(sql), *args)]

    @asynccontextmanager
    async def watch(self, engine: Engine, key: str) -> AsyncIterator[asyncio.Event]:
        """An event set on every notification for `key` while the block runs (listening if possible)."""
        event = asyncio.Event()
        async with self._lock:
            if is_postgres(engine) and not self.listening:
                await self._listen(engine)
            self._events.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            async with self._lock:
                watchers = self._events.get(key, set())
                watchers.discard(event)
                if not watchers:
                    self._events.pop(key, None)
                if not self._events and self._connection is not None:
                    connection, self._connection = self._connection, None
                    await connection.close()
