"""The data-protection jobs the service runs while it is up (issue 14): the audit sealer every few seconds,
the backup once per BACKUP_INTERVAL_HOURS (default 24; 0 = never), made and then verified, and the nightly
retention run that anonymises the customer details of old sessions (db/privacy/retention.py).

Registered in web/app.py's on_startup/on_shutdown. Every worker runs them: the sealer holds a lock per run,
and the backup is claimed (db/ops/schedule.py) so that one worker makes it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Awaitable, Callable

from db.audit import chain
from db.core.actor import Actor
from db.ops import backup, schedule
from db.privacy import retention

SEAL_INTERVAL_SECONDS = 5
BACKUP_CHECK_SECONDS = 60
BACKUP_JOB = "backup"
RETENTION_JOB = "retention"
RETENTION_EVERY = dt.timedelta(hours=24)
SYSTEM = Actor.system("backup")
log = logging.getLogger("ticketcenter.dataprotection")
_tasks: set[asyncio.Task] = set()


def backup_interval() -> dt.timedelta | None:
    hours = float(os.environ.get("BACKUP_INTERVAL_HOURS", "24"))
    return dt.timedelta(hours=hours) if hours > 0 else None


async def run_backup() -> str:
    """Make a backup and verify it; the outcome recorded on the job ("ok" or what went wrong)."""
    outcome = "ok"
    try:
        manifest = await backup.make_recorded(SYSTEM)
        await backup.verify_recorded(SYSTEM, backup.backup_dir() / manifest.file)
    except Exception as exc:
        outcome = str(exc) or type(exc).__name__
        log.exception("the backup failed")
    finally:
        await schedule.finish(BACKUP_JOB, outcome)
    return outcome


def start_backup_now() -> bool:
    """Start a backup in the background unless one is running (the administrator's button)."""

    async def claimed_run() -> None:
        if await schedule.claim(BACKUP_JOB, dt.timedelta(0)):
            await run_backup()

    _keep(asyncio.create_task(claimed_run()))
    return True


async def _backup_if_due() -> None:
    every = backup_interval()
    if every is not None and await schedule.claim(BACKUP_JOB, every):
        await run_backup()


async def _retention_if_due() -> None:
    if await schedule.claim(RETENTION_JOB, RETENTION_EVERY):
        outcome = "ok"
        try:
            anonymised = await retention.anonymise()
            outcome = f"ok: {anonymised} orders anonymised"
        except Exception as exc:
            outcome = str(exc) or type(exc).__name__
            raise
        finally:
            await schedule.finish(RETENTION_JOB, outcome)


async def _every(seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("%s failed", name)


def _keep(task: asyncio.Task) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def start() -> None:
    _keep(asyncio.create_task(_every(SEAL_INTERVAL_SECONDS, "sealing the audit chain", chain.seal)))
    _keep(asyncio.create_task(_every(BACKUP_CHECK_SECONDS, "the scheduled backup", _backup_if_due)))
    _keep(asyncio.create_task(_every(BACKUP_CHECK_SECONDS, "anonymising old customer details", _retention_if_due)))


async def stop() -> None:
    while _tasks:
        task = _tasks.pop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
