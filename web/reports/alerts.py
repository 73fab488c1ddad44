"""Risk alerts (R8.4): the open alerts on the supervisor's home page (polled every 20 s, so an alert shows
within a minute of the 30-second check), the alerts page with the whole history and the rules' thresholds,
and acknowledging an alert with a note."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.reports import risk
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import failure, field_text, form_number, go
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]


async def _page(request: Request, status_code: int = 200, **errors: Any) -> Template:
    return render(
        request,
        "reports/alerts.html",
        status_code=status_code,
        rules=await risk.rules(),
        alerts=await risk.history(),
        RULES=risk.RULES,
        error=errors.get("error"),
        error_field=errors.get("error_field"),
    )


@get("/reports/alerts", guards=[requires(Permission.RISK_ALERTS)], name="risk-alerts")
async def alerts_page(request: Request) -> Template:
    return await _page(request)


@get("/reports/alerts/open", guards=[requires(Permission.RISK_ALERTS)])
async def open_alerts(request: Request) -> Template:
    """The home page's panel (templates/reports/_open_alerts.html), swapped in every 20 seconds."""
    return render(request, "reports/_open_alerts.html", open_alerts=await risk.open_alerts(), RULES=risk.RULES)


@post("/reports/alerts/{alert_id:int}/acknowledge", guards=[requires(Permission.RISK_ALERTS)])
async def acknowledge(request: Request, alert_id: FromPath[int], data: Form) -> Response:
    try:
        await risk.acknowledge(request.user.actor, alert_id, field_text(data, "note"))
    except DomainError as exc:
        context = failure(exc)
        return await _page(request, exc.status_code, error=context["error"], error_field=context["error_field"])
    return go(request, field_text(data, "next") if field_text(data, "next") == "/" else "/reports/alerts")


@post("/reports/alerts/rules/{code:str}", guards=[requires(Permission.RISK_ALERTS)])
async def set_rule(request: Request, code: FromPath[str], data: Form) -> Response:
    try:
        await risk.set_rule(
            request.user.actor,
            code,
            threshold=form_number(data, "threshold", maximum=risk.MAX_THRESHOLD),
            min_count=form_number(data, "min_count", 1, minimum=1, maximum=100_000),
            window_minutes=form_number(data, "window_minutes", 60, minimum=1, maximum=risk.MAX_WINDOW),
            active=field_text(data, "active") == "on",
            notify=field_text(data, "notify"),
        )
    except DomainError as exc:
        context = failure(exc)
        return await _page(request, exc.status_code, error=context["error"], error_field=context["error_field"])
    return go(request, "/reports/alerts")


ROUTES = [alerts_page, open_alerts, acknowledge, set_rule]
