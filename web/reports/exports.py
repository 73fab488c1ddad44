"""A large export's page (R6.2): a progress bar that polls the background task's progress (rows written of
the total) every second until the file is ready, then the download. Only its maker sees an export."""

from __future__ import annotations

from pathlib import Path

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Template

from db.core.errors import NotFound
from db.reports import exports
from db.reports.catalog import REPORTS
from db.staff.permissions import Permission
from web.auth import requires
from web.reports.pages import MEDIA
from web.templating import render


async def _job(request: Request, token: str) -> dict:
    try:
        return await exports.job(token, request.user.actor)
    except NotFound as exc:
        raise NotFoundException(exc.message) from None


@get("/reports/exports/{token:str}", guards=[requires(Permission.REPORTS_VIEW)])
async def export_page(request: Request, token: FromPath[str]) -> Template:
    job = await _job(request, token)
    return render(
        request,
        "reports/export.html",
        partial="reports/_export_progress.html",
        job=job,
        report=REPORTS.get(job["report"]),
    )


@get("/reports/exports/{token:str}/file", guards=[requires(Permission.REPORTS_VIEW)])
async def export_file(request: Request, token: FromPath[str]) -> File:
    job = await _job(request, token)
    if job["status"] != "done" or not Path(job["path"]).exists():
        raise NotFoundException("The file is not ready yet; wait for the progress bar to finish.")
    return File(
        job["path"], filename=job["file_name"], media_type=MEDIA[job["format"]], headers={"Cache-Control": "no-store"}
    )


ROUTES = [export_page, export_file]
