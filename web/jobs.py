"""The periodic jobs of the web app, in one place, started and stopped with it (web/app.py on_startup and
on_shutdown): each runs every `interval` seconds in every worker, and a failure is logged and retried at the
next turn.

- release expired holds (R3.4 step 2), every 30 s. Holds are also released lazily before every new hold and
  every availability count; this job frees stock for sessions nobody is looking at.
- seal the audit chain (issue 14), every 5 s; the sealer holds a lock per run.
- the backup (issue 14), checked every minute and made (then verified) once per BACKUP_INTERVAL_HOURS
  (default 24; 0 = never); it is claimed (db/ops/schedule.py) so that one worker makes it.
- anonymise the customer details of old sessions (db/privacy/retention.py), claimed once a day (checked every
  minute).
- forget rate-limit attempts older than db.core.throttle.KEEP_ATTEMPTS, every hour.
- carry out approved session changes, cancellations and postponements (db/sessionchange/job.py), checked
  every second; a change is leased by one worker, and a killed server's lease runs out for another.
- flag the window shifts still not closed since before today (db/finance/shifts.py), every 10 minutes.
- send the scheduled reports that are due (db/reports/schedules.py), checked every minute; each run is claimed
  by its schedule's row, so one worker sends it. Forget report export files after a day, every hour.
- check the risk rules (db/reports/risk.py) every 30 s: an alert is raised once (its unique key), whichever
  worker finds it. Sum new ledger entries into the sales summary (db/reports/summary.py) every 30 s and
  recount it every hour.
- the sandbox provider's side (db/sales/payments/sandbox.py): settle refunds still processing and post their
  outcome to the merchant until received, every 5 s (each is settled once, a conditional UPDATE; a repeated
  notice is harmless). Ours: ask the provider again, under the same number, about provider refunds approved
  over 30 s ago without an outcome (db/sales/aftersale/refunds.py), every minute."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from db.audit import chain
from db.core.actor import Actor
from db.core.throttle import forget_old_attempts
from db.finance.shifts import flag_unclosed
from db.inventory.alerts import check_sessions_on_sale
from db.ops import backup, schedule
from db.privacy import retention
from db.reports import exports as report_exports
from db.reports import risk as report_risk
from db.reports import schedules as report_schedules
from db.reports import summary as sales_summary
from db.sales.aftersale.refunds import ask_provider_again
from db.sales.ordering.orders import release_expired_holds
from db.sales.payments import sandbox
from db.sessionchange import job as session_change_job
from web.labels import ALL as LABELS

BACKUP_JOB = "backup"
RETENTION_JOB = "retention"
RETENTION_EVERY = dt.timedelta(hours=24)
SYSTEM = Actor.system("backup")
log = logging.getLogger("ticketcenter.jobs")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval: float  # seconds
    run: Callable[[], Awaitable[object]]  # what it did (a count, say), logged when not empty


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


async def _scheduled_reports() -> list[str]:
    return await report_schedules.run_due(LABELS)


JOBS = [
    Job("released expired holds", 30, release_expired_holds),
    Job("sealed audit entries", 5, chain.seal),
    Job("the scheduled backup", 60, _backup_if_due),
    Job("anonymising old customer details", 60, _retention_if_due),
    Job("forgot old rate-limit attempts", 3600, forget_old_attempts),
    Job("raised stock alerts", 10, check_sessions_on_sale),
    Job("session change orders done", 1, session_change_job.run_due),
    Job("flagged unclosed shifts", 600, flag_unclosed),
    Job("sent scheduled reports", 60, _scheduled_reports),
    Job("forgot old report exports", 3600, report_exports.forget_old),
    Job("raised risk alerts", 30, report_risk.evaluate),
    Job("summed ledger entries for the sales reports", 30, sales_summary.refresh),
    Job("checked the sales summary", 3600, sales_summary.check),
    Job("the sandbox provider settled refunds and posted their outcome", 5, sandbox.run_due),
    Job("asked the provider again about refunds without an outcome", 60, ask_provider_again),
]
_tasks: set[asyncio.Task] = set()


async def _every(job: Job) -> None:
    while True:
        await asyncio.sleep(job.interval)
        try:
            done = await job.run()
        except Exception:
            log.exception("periodic job failed: %s", job.name)
            continue
        if done:
            log.info("%s: %s", job.name, done)


def _keep(task: asyncio.Task) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def start() -> None:
    for job in JOBS:
        _keep(asyncio.create_task(_every(job)))


async def stop() -> None:
    while _tasks:
        task = _tasks.pop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
