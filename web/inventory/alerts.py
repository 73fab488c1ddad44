"""Stock alerts (R4.2): the open and recent alerts with their acknowledgement (INVENTORY_MONITOR), and the
alert rules as data: add one, switch one off or on (INVENTORY_MANAGE)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.inventory import alerts
from db.inventory.allocations import TARGETS
from db.inventory.monitor import sessions_on_sale
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, Form, failure, field_text, form_number, go
from web.templating import render


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "inventory/alerts.html",
        status_code=status_code,
        alerts=await alerts.alert_rows(limit=200),
        rules=await alerts.rule_rows(),
        sessions=await sessions_on_sale(),
        targets=TARGETS,
        kinds=alerts.KINDS,
        form=extra.pop("form", {}),
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/inventory/alerts", guards=[requires(Permission.INVENTORY_MONITOR)])
async def alerts_page(request: Request) -> Template:
    return await _page(request)


@post("/inventory/alerts/{alert_id:int}/acknowledge", guards=[requires(Permission.INVENTORY_MONITOR)])
async def acknowledge(request: Request, alert_id: FromPath[int], data: Form) -> Template | Response:
    try:
        await alerts.acknowledge(request.user.actor, alert_id, field_text(data, "note"))
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return go(request, "/inventory/alerts")


def _optional(data: dict, name: str, maximum: int) -> int | None:
    return form_number(data, name, maximum=maximum) if field_text(data, name) else None


@post("/inventory/alerts/rules", guards=[requires(Permission.INVENTORY_MANAGE)])
async def add_rule(request: Request, data: Form) -> Template | Response:
    try:
        await alerts.create_rule(
            request.user.actor,
            field_text(data, "kind"),
            session_id=_optional(data, "session", MAX_ID),
            channel=field_text(data, "channel"),
            remaining_below=_optional(data, "remaining_below", 1_000_000),
            percent_below=_optional(data, "percent_below", 100),
            hours_before=form_number(data, "hours_before", 0, maximum=24 * 365),
            target_percent=_optional(data, "target_percent", 100),
            notify_email=field_text(data, "notify_email"),
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/inventory/alerts")


@post("/inventory/alerts/rules/{rule_id:int}/active", guards=[requires(Permission.INVENTORY_MANAGE)])
async def rule_active(request: Request, rule_id: FromPath[int], data: Form) -> Template | Response:
    try:
        await alerts.set_rule_active(request.user.actor, rule_id, field_text(data, "active") == "1")
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return go(request, "/inventory/alerts")


ROUTES = [alerts_page, acknowledge, add_rule, rule_active]
