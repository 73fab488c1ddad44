"""Browsing and choosing: events by kind and date, a session's prices with any announced price change
(R3.2), the seat plan or quantities, the refund and exchange rules (R5.1), buyer details and concession
(R3.6); placing the order holds the tickets (R3.4 step 2). Public: no staff login."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Response, Template

from db.catalog import queries as catalog
from db.catalog.operations import EVENT_KINDS
from db.core.clock import utcnow
from db.core.errors import Conflict, DomainError, InvalidInput
from db.inventory import promotions, realname
from db.inventory.realname import parse_holder_lines
from db.sales.aftersale.policies import in_force_for_session
from db.sales.channels.shop import CHANNEL as SHOP_CHANNEL
from db.sales.channels.shop import MAX_TICKETS, place_order, shop_items
from db.sales.ordering.buyer import ID_TYPES
from db.sales.ordering.pricing import unit_price
from db.sales.policy import buyer_details_needed, concession_kinds
from db.sales.queries import availability, events_on_sale, plan_view
from web import labels
from web.auth import PUBLIC
from web.forms import failure, field_text, form_number, go
from web.shop import forms
from web.shop.grants import client_key, grant
from web.templating import render

Form = URLEncodedBody[dict[str, Any]]


@get("/shop", opt=PUBLIC, name="shop")
async def events_page(
    request: Request, kind: FromQuery[str | None] = None, date: FromQuery[str | None] = None
) -> Template:
    """Sessions on sale, soonest first, filtered by kind and local date; the list is the HTMX partial."""
    kind = kind if kind in EVENT_KINDS else None
    sessions = [
        {**s, "event_id": e["id"], "event_name": e["name"], "kind": e["kind"], "date": s["date"]}
        for e in await events_on_sale()
        for s in e["sessions"]
        if kind is None or e["kind"] == kind
    ]
    dates = sorted({s["date"] for s in sessions})
    if date:
        sessions = [s for s in sessions if s["date"] == date]
    sessions.sort(key=lambda s: s["starts_at"])
    return render(
        request,
        "shop/events.html",
        partial="shop/_sessions.html",
        sessions=sessions,
        dates=dates,
        kind=kind,
        date=date or "",
        kinds=[(k, labels.EVENT_KIND[k]) for k in EVENT_KINDS],
    )


def _promotion_prices(prices: list[dict], offers: list[promotions.Offer], form: dict[str, Any]) -> dict[int, int]:
    """{price class: one ticket's price} under the promotion chosen on the form, priced as the order will be."""
    chosen = next((o for o in offers if str(o.id) == str(form.get("promotion", ""))), None)
    if chosen is None:
        return {}
    return {
        p["id"]: unit_price(p["price_fen"], None, 0, (chosen.id, chosen.rule))[0]
        for p in prices
        if chosen.covers(p["id"])
    }


def _chosen(form: dict[str, Any]) -> set[int]:
    """The seats to tick on the plan; none when the form comes back with a bad seat id (it shows its error)."""
    try:
        return set(forms.seat_ids(form))
    except InvalidInput:
        return set()


async def _session_page(
    request: Request, session_id: int, form: dict[str, Any], status_code: int = 200, **extra: Any
) -> Template:
    session = await catalog.session(session_id)
    now = utcnow()
    on_sale = session["status"] == "on_sale" and session["ends_at"] > now
    prices = (await availability(session_id, now))["price_classes"]
    chosen = _chosen(form)
    section = field_text(form, "section") or None
    plan = await plan_view(session_id, section, sorted(chosen)) if session["seated"] else None
    offers = await promotions.offers(session["id"], "web_shop", now)
    return render(
        request,
        "shop/session.html",
        partial="shop/_session_body.html",
        status_code=status_code,
        session=session,
        on_sale=on_sale,
        prices=prices,
        plan=plan,
        chosen=chosen,
        form=form,
        concessions=await concession_kinds(),
        realname=await realname.is_realname(session["id"]),
        buyer_details=await buyer_details_needed(session["event_kind"], SHOP_CHANNEL),
        offers=offers,
        promotion_prices=_promotion_prices(prices, offers, form),
        id_types=[(t, labels.ID_TYPE[t]) for t in ID_TYPES],
        refund_rules=(await in_force_for_session(session["id"])).rules,
        max_tickets=MAX_TICKETS,
        kind_label=labels.EVENT_KIND.get(session["event_kind"], session["event_kind"]),
        **{"error": None, "error_field": None, "taken": False, **extra},
    )


@get("/shop/sessions/{session_id:int}", opt=PUBLIC)
async def session_page(request: Request, session_id: FromPath[int]) -> Template:
    return await _session_page(request, session_id, {})


@get("/shop/sessions/{session_id:int}/plan", opt=PUBLIC)
async def session_plan(request: Request, session_id: FromPath[int], section: FromQuery[str | None] = None) -> Template:
    """The plan alone: one section of a big plan chosen on its overview, keeping the seats chosen elsewhere."""
    await catalog.session(session_id)  # NotFound: 404
    chosen = _chosen({"seat_id": request.query_params.getall("seat_id", [])})
    return render(
        request,
        "shop/_plan.html",
        session={"id": session_id},
        plan=await plan_view(session_id, section, sorted(chosen)),
        chosen=chosen,
    )


@post("/shop/sessions/{session_id:int}/order", opt=PUBLIC)
async def order_create(request: Request, session_id: FromPath[int], data: Form) -> Response:
    """Hold the chosen tickets. A seat someone else took meanwhile: the form again, with a fresh plan (409)."""
    try:
        if not field_text(data, "accept_rules"):
            raise InvalidInput(
                "Read the refund and exchange rules and tick the box to accept them.", field="accept_rules"
            )
        items = shop_items(forms.seat_ids(data), forms.quantities(data), forms.concession(data))
        order = await place_order(
            client_key(request),
            session_id,
            forms.buyer(data),
            items,
            holders=parse_holder_lines(field_text(data, "holders", maximum=None)),
            promotion_id=form_number(data, "promotion") or None,
        )
    except DomainError as exc:
        taken = isinstance(exc, Conflict) and exc.field == "items"
        return await _session_page(request, session_id, data, exc.status_code, taken=taken, **failure(exc))
    return grant(request, go(request, f"/shop/orders/{order.code}"), order.code)


@post("/shop/sessions/{session_id:int}/preview", opt=PUBLIC)
async def preview(request: Request, session_id: FromPath[int], data: Form) -> Template:
    """The form again with the prices of the promotion just chosen (writes nothing)."""
    return await _session_page(request, session_id, data)


ROUTES = [events_page, session_page, session_plan, preview, order_create]
