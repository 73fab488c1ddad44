"""Sessions (场次): the create form (times in the venue's local time, prices typed in yuan), the session
page with the price in force, scheduled changes and their notices (R3.2), and withdrawing a change."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template

from db.catalog import operations, queries
from db.catalog.operations import PriceClassSpec, SessionSpec
from db.catalog.pricing import yuan_to_fen
from db.core.errors import DomainError, InvalidInput, NotFound, Refusals
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.catalog.forms import local_to_utc
from web.forms import QueryId, failure, field_text, form_number, id_suffixes, ids, listed
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]
MIN_PRICE_ROWS = 4


def _price_rows(data: dict[str, Any], seat_classes: list[str]) -> list[dict[str, str]]:
    """The price-class rows of the form: what was typed, else one row per seat class of the venue."""
    if "pc_name_0" in data:
        return [
            {f: field_text(data, f"pc_{f}_{i}") for f in ("name", "seat_class", "capacity", "price")}
            for i in sorted(id_suffixes(data, "pc_name_", minimum=0))
        ]
    rows = [{"name": c, "seat_class": c, "capacity": "", "price": ""} for c in seat_classes]
    rows += [
        {"name": "", "seat_class": "", "capacity": "", "price": ""} for _ in range(max(2, MIN_PRICE_ROWS - len(rows)))
    ]
    return rows


def _price_specs(rows: list[dict[str, str]], refusals: Refusals) -> list[PriceClassSpec]:
    """The typed price classes; each bad price or capacity goes to `refusals` (all of them, not the first)."""
    specs = []
    for i, row in enumerate(rows):
        if not row["name"] and not row["price"]:
            continue  # an unused row
        if not row["price"]:
            refusals.refuse("Enter a price for {name}.", field=f"pc_price_{i}", name=row["name"] or "?")
            continue
        with refusals.collect():
            specs.append(
                PriceClassSpec(
                    name=row["name"],
                    price_fen=yuan_to_fen(row["price"], field=f"pc_price_{i}"),
                    seat_class=row["seat_class"],
                    capacity=0
                    if row["seat_class"]
                    else form_number({f"pc_capacity_{i}": row["capacity"]}, f"pc_capacity_{i}"),
                )
            )
    return specs


async def _new_session_page(
    request: Request, event_id: int, venue_id: int | None, data: dict[str, Any], status_code: int = 200, **extra: Any
) -> Template:
    event = await queries.event(event_id)
    venue = await queries.venue(venue_id) if venue_id else None
    seat_classes = await queries.seat_classes(venue_id) if venue else []
    return render(
        request,
        "catalog/session_new.html",
        partial="catalog/_session_form.html",
        status_code=status_code,
        event=event,
        venues=await queries.venues(),
        venue=venue,
        seat_classes=seat_classes,
        gates=await queries.venue_gates(venue_id) if venue else [],
        rows=_price_rows(data, seat_classes),
        form=data,
        chosen_gates=listed(data, "gate_ids"),
        **{"error": None, "error_field": None, **extra},
    )


@get("/catalog/events/{event_id:int}/sessions/new", guards=[requires(Permission.PRICE_EDIT)])
async def session_new(request: Request, event_id: FromPath[int], venue_id: QueryId = None) -> Template:
    return await _new_session_page(request, event_id, venue_id, {})


@post("/catalog/events/{event_id:int}/sessions", guards=[requires(Permission.PRICE_EDIT)])
async def session_create(request: Request, event_id: FromPath[int], data: Form) -> Response:
    venue_id = form_number(data, "venue_id") or None
    try:
        venue = await queries.venue(venue_id or 0)
        refusals = Refusals()
        times = {}
        for name in ("starts_at", "ends_at"):
            with refusals.collect():
                times[name] = local_to_utc(field_text(data, name), venue["timezone"], name)
        price_classes = _price_specs(_price_rows(data, []), refusals)
        refusals.raise_any()
        spec = SessionSpec(
            event_id=event_id,
            venue_id=venue["id"],
            starts_at=times["starts_at"],
            ends_at=times["ends_at"],
            price_classes=price_classes,
            gate_ids=ids(listed(data, "gate_ids"), "gate_ids"),
            reentry_allowed=data.get("reentry_allowed") == "on",
        )
        session_id = await operations.create_session(request.user.actor, spec)
    except DomainError as exc:
        return await _new_session_page(request, event_id, venue_id, data, exc.status_code, **failure(exc))
    return Redirect(f"/catalog/sessions/{session_id}", status_code=303)


async def _session_page(request: Request, session_id: int, status_code: int = 200, **extra: Any) -> Template:
    session = await queries.session(session_id)
    return render(
        request,
        "catalog/session.html",
        status_code=status_code,
        session=session,
        kinds=labels.EVENT_KIND,
        prices=await operations.session_prices(session_id),
        changes=await queries.price_changes(session_id),
        gates=await queries.session_gates(session_id),
        seats=await queries.session_seats(session_id),
        **{"form": {}, "error": None, "error_field": None, **extra},
    )


@get("/catalog/sessions/{session_id:int}", guards=[requires(Permission.CATALOG_VIEW)])
async def session_detail(request: Request, session_id: FromPath[int]) -> Template:
    return await _session_page(request, session_id)


@post("/catalog/sessions/{session_id:int}/price-changes", guards=[requires(Permission.PRICE_EDIT)])
async def price_change_schedule(request: Request, session_id: FromPath[int], data: Form) -> Response:
    session = await queries.session(session_id)
    try:
        refusals = Refusals()
        typed: dict[str, Any] = {}
        with refusals.collect():
            typed["class"] = form_number(data, "price_class_id")
            if typed["class"] not in {p["id"] for p in await operations.session_prices(session_id)}:
                raise InvalidInput("Choose the price class to change.", field="price_class_id")
        with refusals.collect():
            typed["price"] = yuan_to_fen(field_text(data, "price"), field="price")
        with refusals.collect():
            typed["at"] = local_to_utc(field_text(data, "effective_at"), session["timezone"], "effective_at")
        if not field_text(data, "notice"):
            refusals.refuse("Write the public notice that announces the change.", field="notice")
        refusals.raise_any()
        await operations.schedule_price_change(
            request.user.actor, typed["class"], typed["price"], typed["at"], field_text(data, "notice")
        )
    except DomainError as exc:
        return await _session_page(request, session_id, exc.status_code, form=data, **failure(exc))
    return Redirect(f"/catalog/sessions/{session_id}", status_code=303)


@post(
    "/catalog/sessions/{session_id:int}/price-changes/{change_id:int}/withdraw",
    guards=[requires(Permission.PRICE_EDIT)],
)
async def price_change_withdraw(request: Request, session_id: FromPath[int], change_id: FromPath[int]) -> Response:
    try:
        if change_id not in {c["id"] for c in await queries.price_changes(session_id)}:
            raise NotFound("No such price change.")
        await operations.cancel_price_change(request.user.actor, change_id)
    except DomainError as exc:
        return await _session_page(request, session_id, exc.status_code, **failure(exc))
    return Redirect(f"/catalog/sessions/{session_id}", status_code=303)


ROUTES = [session_new, session_create, session_detail, price_change_schedule, price_change_withdraw]
