"""Live stock updates for the monitor page (R4.2), across every web worker and process: each watcher polls the
change counter (db/inventory/monitor.py change_mark: four index look-ups) every POLL_SECONDS. A sale made
through any worker, the partner API or the fast path is seen within that time; the hot paths write nothing
extra (no NOTIFY per sale in an on-sale rush), and SQLite works the same way."""

from __future__ import annotations

import asyncio

from db.inventory.monitor import change_mark

POLL_SECONDS = 0.25


class Watcher:
    """`wait(timeout)`: True as soon as the figures may have changed since the last call, False on timeout."""

    def __init__(self) -> None:
        self._mark: tuple | None = None

    async def start(self) -> None:
        self._mark = await change_mark()

    async def wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.sleep(min(POLL_SECONDS, remaining))
            mark = await change_mark()
            if mark != self._mark:
                self._mark = mark
                return True
        return False
