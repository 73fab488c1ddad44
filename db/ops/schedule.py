"""Jobs of the service that one worker at a time runs (the backup): every worker asks, one wins the claim.

A claim is one conditional UPDATE of the job's row in ops_job, so two workers (or a worker and the
administrator's button) never run the same job at once, on either engine."""

from __future__ import annotations

import datetime as dt

from db.ops.tables import Job

STALE = dt.timedelta(hours=3)  # a run that never finished (its worker died) may be taken over after this


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def claim(name: str, every: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """Take the job `name` if no run is in progress and the last one started at least `every` ago."""
    now = now or _now()
    await Job.raw("INSERT INTO ops_job (name, outcome) VALUES ({}, '') ON CONFLICT (name) DO NOTHING", name).run()
    taken = await Job.raw(
        "UPDATE ops_job SET started_at = {}, finished_at = NULL WHERE name = {} AND ("
        "started_at IS NULL OR (finished_at IS NOT NULL AND started_at <= {})"
        " OR (finished_at IS NULL AND started_at <= {})"
        ") RETURNING id",
        now,
        name,
        now - every,
        now - STALE,
    ).run()
    return bool(taken)


async def finish(name: str, outcome: str) -> None:
    await Job.update({Job.finished_at: _now(), Job.outcome: outcome}).where(Job.name == name)


async def state(name: str) -> dict | None:
    return await Job.select().where(Job.name == name).first()
