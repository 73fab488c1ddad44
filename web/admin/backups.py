"""The backups page (R6.3, issue 14): the last verified backup (a warning when it is older than a day or
there is none), the backup running now (the page polls it), the recent backups with what verifying each
found, and a button that makes and verifies one now."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Template

from db.ops import backup, schedule
from db.staff.permissions import Permission
from web import jobs
from web.auth import requires
from web.templating import render


async def _context() -> dict:
    state = await schedule.state(jobs.BACKUP_JOB)
    running = state is not None and state["started_at"] is not None and state["finished_at"] is None
    return {**await backup.latest(), "job": state, "running": running, "interval": jobs.backup_interval()}


@get("/admin/backups", guards=[requires(Permission.BACKUP_MANAGE)], name="admin-backups")
async def backups_page(request: Request) -> Template:
    return render(request, "admin/backups.html", partial="admin/_backup_status.html", **await _context())


@post("/admin/backups", guards=[requires(Permission.BACKUP_MANAGE)])
async def backup_now(request: Request) -> Template:
    jobs.start_backup_now()
    context = await _context()
    context["running"] = True  # the claim runs in the background; poll until it is done
    return render(request, "admin/backups.html", partial="admin/_backup_status.html", status_code=200, **context)


ROUTES = [backups_page, backup_now]
NAV = [(Permission.BACKUP_MANAGE, "/admin/backups", "Backups")]
