"""Events: the list filtered by kind, creating one, and an event's page with its sessions."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.catalog import operations, queries
from db.core.errors import DomainError
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.forms import failure, field_text, form_number
from web.templating import render


async def _events_page(request: Request, kind: str | None, status_code: int = 200, **extra: Any) -> Template:
    kind = kind if kind in labels.EVENT_KIND else None
    return render(
        request,
        "catalog/events.html",
        partial="catalog/_events_table.html",
        status_code=status_code,
        events=await queries.events(kind),
        kind=kind,
        kinds=labels.EVENT_KIND,
        **{"form": {}, **extra},
    )


@get("/catalog/events", guards=[requires(Permission.CATALOG_VIEW)], name="catalog-events")
async def event_list(request: Request, kind: FromQuery[str | None] = None) -> Template:
    return await _events_page(request, kind)


@post("/catalog/events", guards=[requires(Permission.CATALOG_EDIT)])
async def event_create(request: Request, data: URLEncodedBody[dict[str, Any]]) -> Response:
    try:
        event_id = await operations.create_event(
            request.user.actor,
            field_text(data, "name"),
            field_text(data, "kind"),
            field_text(data, "description", maximum=None),  # create_event bounds it, with the other refusals
            form_number(data, "duration_minutes", 120),
        )
    except DomainError as exc:
        return await _events_page(request, None, exc.status_code, form=data, **failure(exc))
    return Redirect(f"/catalog/events/{event_id}", status_code=303)


@get("/catalog/events/{event_id:int}", guards=[requires(Permission.CATALOG_VIEW)])
async def event_detail(request: Request, event_id: FromPath[int]) -> Template:
    return render(
        request,
        "catalog/event.html",
        event=await queries.event(event_id),
        sessions=await queries.event_sessions(event_id),
        kinds=labels.EVENT_KIND,
    )


ROUTES = [event_list, event_create, event_detail]
