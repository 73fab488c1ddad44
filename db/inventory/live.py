"""Live stock updates for the monitor page (R4.2), across every web worker and process.

PostgreSQL: triggers (migration inventory 2026-12-01T16:00) NOTIFY `stock_change` with the session's id, at
commit, when an order of the session changes status (a sales_order_event row: every path writes one, the
fast path in its one statement too), when an allocation's size changes and when an alert is raised or
acknowledged; each process LISTENs on one dedicated connection (db/core/listen.py) and wakes the watchers
of that session only, at once. SQLite (and PostgreSQL without the LISTEN connection): each watcher polls the
change counter (db/inventory/monitor.py change_mark) every POLL_SECONDS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db.core.listen import Channel
from db.inventory.monitor import change_mark
from db.inventory.tables import Allocation

CHANNEL = Channel("stock_change")
POLL_SECONDS = 0.25


class Watcher:
    """`wait(timeout)`: True as soon as the session's figures may have changed since the last call, False on
    timeout."""

    def __init__(self, event: asyncio.Event) -> None:
        self._event = event
        self._mark: tuple | None = None

    async def _changed(self) -> bool:
        mark = await change_mark()
        changed, self._mark = mark != self._mark, mark
        return changed

    async def wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            if CHANNEL.listening:
                try:
                    await asyncio.wait_for(self._event.wait(), remaining)
                except TimeoutError:
                    return False
                self._event.clear()
                return True
            await asyncio.sleep(min(POLL_SECONDS, remaining))
            if await self._changed():
                return True
        return False


@asynccontextmanager
async def watching(session_id: int) -> AsyncIterator[Watcher]:
    """Watch one session's stock for as long as the block runs."""
    async with CHANNEL.watch(Allocation._meta.db, str(session_id)) as event:
        watcher = Watcher(event)
        if not CHANNEL.listening:
            await watcher._changed()  # where polling starts from
        yield watcher
