"""Real-name sessions (issue 13): mark a session real-name with its approved capacity and reserved tickets;
the compliance figures per session (share of the approved capacity on public sale against the 85% minimum,
tickets not yet bound to an identity, a warning from 24 h before the start) as a chart and a table, and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Request, get, post
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.inventory import realname
from db.inventory.promotions import classes_on_sale
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, go
from web.i18n import local_time
from web.templating import render

GUARD = [requires(Permission.REALNAME_EDIT)]


def holder_from_form(data: Form) -> realname.Holder:
    """The new holder of the order pages' change form (templates/inventory/_order_holders.html)."""
    id_type = field_text(data, "id_type") or "id_card"
    return realname.Holder(field_text(data, "name"), field_text(data, "id_number"), id_type)


async def _sessions() -> list[dict]:
    seen: dict[int, dict] = {}
    for c in await classes_on_sale():
        seen.setdefault(
            c["session"],
            {
                "id": c["session"],
                "name": c["session.event.name"],
                "starts_at": c["session.starts_at"],
                "timezone": c["session.venue.timezone"],
            },
        )
    return list(seen.values())


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    rows = await realname.compliance()
    chart = {
        "labels": [f"{r.event} {local_time(r.starts_at, 'short')}" for r in rows],
        "public": [r.public_percent for r in rows],
        "minimum": realname.PUBLIC_SALE_MINIMUM,
    }
    return render(
        request,
        "inventory/realname.html",
        status_code=status_code,
        rows=rows,
        chart=chart,
        sessions=await _sessions(),
        **{"error": None, "error_field": None, "form": {}, **extra},
    )


@get("/inventory/realname", guards=GUARD, name="inventory-realname")
async def realname_page(request: Request) -> Template:
    return await _page(request)


@post("/inventory/realname", guards=GUARD)
async def mark(request: Request, data: Form) -> Response:
    try:
        await realname.mark(
            request.user.actor,
            form_number(data, "session_id", minimum=1),
            form_number(data, "approved_capacity", minimum=0, maximum=10_000_000),
            form_number(data, "reserved", minimum=0, maximum=10_000_000),
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/inventory/realname")


@get("/inventory/realname.csv", guards=GUARD)
async def realname_csv() -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "session_id",
            "event",
            "starts_at",
            "approved_capacity",
            "reserved",
            "public_percent",
            "minimum_percent",
            "public_ok",
            "unbound",
            "binding_deadline",
            "unbound_late",
        ]
    )
    for r in await realname.compliance():
        writer.writerow(
            [
                r.session_id,
                r.event,
                r.starts_at.isoformat(),
                r.approved_capacity,
                r.reserved,
                r.public_percent,
                r.minimum_percent,
                r.public_ok,
                r.unbound,
                r.deadline.isoformat(),
                r.unbound_late,
            ]
        )
    return Response(
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="realname.csv"', "Cache-Control": "no-store"},
    )


ROUTES = [realname_page, mark, realname_csv]
NAV = [(Permission.REALNAME_EDIT, "/inventory/realname", "Real-name sessions")]
