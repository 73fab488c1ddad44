"""The periodic release of expired holds (R3.4 step 2): every 30 s while the app runs.

Holds are also released lazily before every new hold and every availability count; this task frees
stock for sessions nobody is looking at. Registered in web/app.py's on_startup/on_shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from db.sales.ordering.orders import release_expired_holds

INTERVAL_SECONDS = 30
log = logging.getLogger("ticketcenter.holds")
_task: asyncio.Task | None = None


async def _run() -> None:
    while True:
        await asyncio.sleep(INTERVAL_SECONDS)
        try:
            released = await release_expired_holds()
        except Exception:
            log.exception("releasing expired holds failed")
            continue
        if released:
            log.info("released %d expired holds", released)


async def start() -> None:
    global _task
    _task = asyncio.create_task(_run())


async def stop() -> None:
    if _task is not None:
        _task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _task
