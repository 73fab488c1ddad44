"""Scheduled reports (R6.2): the list, a new schedule (report, daily or weekly, hour, filters, staff with their
addresses) and stopping one. The runs are web/jobs.py's; db.reports.schedules does the work."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Response, Template

from db.catalog.tables import Event
from db.core.errors import DomainError
from db.reports import schedules
from db.reports.catalog import REPORTS
from db.reports.filters import BASES
from db.sales.status import CHANNELS
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, failure, field_text, form_number, go
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def _page(request: Request, status_code: int = 200, form: dict | None = None, **errors: Any) -> Template:
    return render(
        request,
        "reports/schedules.html",
        status_code=status_code,
        schedules=await schedules.listing(),
        reports=[r for r in REPORTS.values() if request.user.can(r.permission)],
        REPORTS=REPORTS,
        events=await Event.select(Event.id, Event.name).order_by(Event.name).limit(500),
        channels=CHANNELS,
        bases=BASES,
        weekdays=WEEKDAYS,
        form=form or {"hour": "7", "frequency": "daily"},
        error=errors.get("error"),
        error_field=errors.get("error_field"),
    )


@get("/reports/schedules", guards=[requires(Permission.REPORTS_SCHEDULE)], name="report-schedules")
async def schedules_page(request: Request) -> Template:
    return await _page(request)


@post("/reports/schedules", guards=[requires(Permission.REPORTS_SCHEDULE)])
async def new_schedule(request: Request, data: Form) -> Response:
    try:
        event = field_text(data, "event")
        await schedules.create(
            request.user.actor,
            name=field_text(data, "name"),
            report=field_text(data, "report"),
            frequency=field_text(data, "frequency"),
            weekday=form_number(data, "weekday", 0, maximum=6),
            hour=form_number(data, "hour", 7, maximum=23),
            recipients=data.get("recipients", "") if isinstance(data.get("recipients"), str) else "",
            event_id=form_number(data, "event", minimum=1, maximum=MAX_ID) if event else None,
            channel=field_text(data, "channel"),
            basis=field_text(data, "basis") or "order",
        )
    except DomainError as exc:
        context = failure(exc)
        return await _page(
            request, exc.status_code, dict(data), error=context["error"], error_field=context["error_field"]
        )
    return go(request, "/reports/schedules")


@post("/reports/schedules/{schedule_id:int}/stop", guards=[requires(Permission.REPORTS_SCHEDULE)])
async def stop_schedule(request: Request, schedule_id: FromPath[int]) -> Response:
    try:
        await schedules.stop(request.user.actor, schedule_id)
    except DomainError as exc:
        return await _page(request, exc.status_code, error=failure(exc)["error"])
    return go(request, "/reports/schedules")


ROUTES = [schedules_page, new_schedule, stop_schedule]
