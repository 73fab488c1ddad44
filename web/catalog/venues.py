"""Venues: the list, creating one with its seat map (CSV upload or paste), its page with gates and plan."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.catalog import operations, queries
from db.core.clock import VENUE_TIMEZONE
from db.core.errors import DomainError
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.catalog.forms import upload_text
from web.forms import failure, field_text
from web.templating import render


async def _venues_page(request: Request, status_code: int = 200, form: dict | None = None, **extra: Any) -> Template:
    return render(
        request,
        "catalog/venues.html",
        status_code=status_code,
        venues=await queries.venues(),
        zones=labels.TIMEZONE,
        form=form or {},
        **extra,
    )


async def _venue_page(request: Request, venue_id: int, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "catalog/venue.html",
        status_code=status_code,
        venue=await queries.venue(venue_id),
        gates=await queries.venue_gates(venue_id),
        seats=await queries.venue_seats(venue_id),
        **{"form": {}, **extra},
    )


async def _seat_csv(data: dict[str, Any]) -> str:
    """The seat map from the form: the uploaded file if one was chosen, else the pasted text."""
    return await upload_text(data.get("seat_csv_file")) or field_text(data, "seat_csv", maximum=None)


@get("/catalog/venues", guards=[requires(Permission.CATALOG_VIEW)], name="catalog-venues")
async def venue_list(request: Request) -> Template:
    return await _venues_page(request)


@post("/catalog/venues", guards=[requires(Permission.CATALOG_EDIT)])
async def venue_create(request: Request, data: MultipartBody[dict[str, Any]]) -> Response:
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    try:
        venue_id = await operations.create_venue(
            request.user.actor,
            field_text(data, "name"),
            field_text(data, "city"),
            field_text(data, "address"),
            await _seat_csv(data) or None,
            field_text(data, "timezone") or VENUE_TIMEZONE.key,
        )
    except DomainError as exc:
        return await _venues_page(request, exc.status_code, form, **failure(exc))
    return Redirect(f"/catalog/venues/{venue_id}", status_code=303)


@get("/catalog/venues/{venue_id:int}", guards=[requires(Permission.CATALOG_VIEW)])
async def venue_detail(request: Request, venue_id: FromPath[int]) -> Template:
    return await _venue_page(request, venue_id)


@post("/catalog/venues/{venue_id:int}/gates", guards=[requires(Permission.CATALOG_EDIT)])
async def gate_create(request: Request, venue_id: FromPath[int], data: URLEncodedBody[dict[str, Any]]) -> Response:
    try:
        await operations.add_gate(request.user.actor, venue_id, field_text(data, "code"), field_text(data, "name"))
    except DomainError as exc:
        return await _venue_page(request, venue_id, exc.status_code, form=data, **failure(exc))
    return Redirect(f"/catalog/venues/{venue_id}", status_code=303)


@post("/catalog/venues/{venue_id:int}/seats", guards=[requires(Permission.CATALOG_EDIT)])
async def seat_map_replace(request: Request, venue_id: FromPath[int], data: MultipartBody[dict[str, Any]]) -> Response:
    """Load (or reload) a venue's seat map; refused once a session sells its seats."""
    try:
        await operations.replace_seat_map(request.user.actor, venue_id, await _seat_csv(data))
    except DomainError as exc:
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        return await _venue_page(request, venue_id, exc.status_code, form=form, **failure(exc))
    return Redirect(f"/catalog/venues/{venue_id}", status_code=303)


ROUTES = [venue_list, venue_create, venue_detail, gate_create, seat_map_replace]
