"""Inquiry (R3.4 step 1): sessions on sale with live availability per price class and the notices of
scheduled price changes; a session page whose availability and seat plan refresh by HTMX polling."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from db.catalog import queries as catalog
from db.core.errors import DomainError, InvalidInput
from db.inventory.allocations import shares_view
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER
from db.sales.ordering.preview import suggest_seats
from db.sales.policy import buyer_details_needed
from db.sales.queries import availability, events_on_sale, plan_view
from db.sales.status import BOX_OFFICE
from db.sessionchange import operations as session_changes
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.forms import QueryId, failure, ids, whole_number
from web.templating import render

REFRESH_SECONDS = 4


async def _sessions(q: str, day: str, kind: str) -> list[dict[str, Any]]:
    """Sessions on sale matching the filters, soonest first, each with its live availability."""
    found = []
    for event in await events_on_sale():
        if (q and q.lower() not in event["name"].lower()) or (kind and event["kind"] != kind):
            continue
        for s in event["sessions"]:
            if day and s["date"] != day:
                continue
            found.append(
                {
                    **s,
                    "event_name": event["name"],
                    "event_kind": event["kind"],
                    "prices": (await availability(s["id"]))["price_classes"],
                }
            )
    return sorted(found, key=lambda s: s["starts_at"])


@get("/sales/sessions", guards=[requires(Permission.SALES_INQUIRE)])
async def session_list(
    request: Request, q: FromQuery[str] = "", day: FromQuery[str] = "", kind: FromQuery[str] = ""
) -> Template:
    q, day, kind = q.strip(), day.strip(), kind.strip()
    return render(
        request,
        "sales/sessions.html",
        partial="sales/_sessions.html",
        sessions=await _sessions(q, day, kind),
        filters={"q": q, "day": day, "kind": kind},
        kinds=labels.EVENT_KIND,
        refresh=REFRESH_SECONDS * 3,
    )


def picked_seats(values: list[str]) -> list[int]:
    """The seats to mark on the plan (from the query string or a form coming back with its error): the ids
    that are whole numbers in range; anything else marks nothing (an order checks every seat strictly)."""
    try:
        return ids(values, "seat_id")
    except InvalidInput:
        return []


def _picked(request: Request) -> list[int]:
    return picked_seats(request.query_params.getall("seat_id", []))


async def session_context(
    session_id: int, picked: list[int] | None = None, section: str | None = None, **extra: Any
) -> dict[str, Any]:
    """Everything the session page and its order panel show (a big plan: its overview and one `section`)."""
    session = await catalog.session(session_id)
    live = await availability(session_id)
    return {
        "session": session,
        "prices": live["price_classes"],
        "shares": await shares_view(session_id),  # each channel's share (db/inventory/allocations.py)
        "plan": await plan_view(session_id, section, picked or []),
        "gates": await catalog.session_gates(session_id),
        "session_notices": await session_changes.notices(session_id),
        # the buyer details a window sale of this kind of event asks for (db/sales/policy.py)
        "buyer_details": await buyer_details_needed(session["event_kind"], BOX_OFFICE),
        "kinds": labels.EVENT_KIND,
        "picked": picked or [],
        "refresh": REFRESH_SECONDS,
        "step": "tickets",
        "form": {},
        "error": None,
        "error_field": None,
        **extra,
    }


@get("/sales/sessions/{session_id:int}", guards=[requires(Permission.SALES_INQUIRE)])
async def session_page(request: Request, session_id: FromPath[int]) -> Template:
    context = await session_context(session_id, _picked(request), request.query_params.get("section"))
    return render(request, "sales/session.html", **context)


@get("/sales/sessions/{session_id:int}/live", guards=[requires(Permission.SALES_INQUIRE)])
async def session_live(request: Request, session_id: FromPath[int]) -> Template:
    """The availability table (polled)."""
    return render(
        request,
        "sales/_availability.html",
        prices=(await availability(session_id))["price_classes"],
        shares=await shares_view(session_id),
        session={"id": session_id},
        refresh=REFRESH_SECONDS,
    )


@get("/sales/sessions/{session_id:int}/plan", guards=[requires(Permission.SALES_INQUIRE)])
async def session_plan(
    request: Request,
    session_id: FromPath[int],
    best_class: QueryId = None,
    best_n: FromQuery[str] = "",
    section: FromQuery[str | None] = None,
) -> Template:
    """The seat plan (polled), or one `section` of a big plan. With best_class and best_n: the best N free seats
    together are pre-picked (on a big plan, in the section they are in)."""
    picked, extra = _picked(request), {}
    if best_class is not None:
        try:
            picked = await suggest_seats(
                session_id, best_class, whole_number(best_n, field="best_n", minimum=1, maximum=MAX_TICKETS_PER_ORDER)
            )
            section = None
        except DomainError as exc:
            extra = failure(exc)
    selectable = request.user.can(Permission.SALES_SELL)
    status = 422 if extra else 200
    return render(
        request,
        "sales/_plan.html",
        status_code=status,
        plan=await plan_view(session_id, section, picked),
        picked=picked,
        selectable=selectable,
        session={"id": session_id},
        refresh=REFRESH_SECONDS,
        suggested=best_class is not None,
        **{"error": None, "error_field": None, **extra},
    )


ROUTES = [session_list, session_page, session_live, session_plan]
