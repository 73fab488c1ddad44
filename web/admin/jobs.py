"""The data-protection jobs the service runs while it is up (issue 14): the audit sealer every few seconds.
Registered in web/app.py's on_startup/on_shutdown; every worker runs them, and the jobs are safe to run
side by side (the sealer holds a lock per run)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from db.audit import chain

SEAL_INTERVAL_SECONDS = 5
log = logging.getLogger("ticketcenter.dataprotection")
_tasks: list[asyncio.Task] = []


async def _every(seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("%s failed", name)


async def start() -> None:
    _tasks.append(asyncio.create_task(_every(SEAL_INTERVAL_SECONDS, "sealing the audit chain", chain.seal)))


async def stop() -> None:
    while _tasks:
        task = _tasks.pop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
