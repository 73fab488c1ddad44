"""Order (R3.4 step 2) at the window, in two steps on the session page:
1. tickets: seats picked on the plan (or the best N together) and quantities per general-admission class;
2. details: the buyer, a concession per ticket with the ID the seller checked (R3.6), and the price
   preview with the group discount (R3.5) and the refund and exchange rules (R5.1, shared with the shop);
   "Hold tickets" places the order.
A seat taken meanwhile brings back step 1 with the fresh plan and a message (409), never an error page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.errors import Conflict, DomainError, InvalidInput
from db.inventory import promotions, realname
from db.inventory.promotions import Offer
from db.inventory.realname import Holder
from db.sales.aftersale.policies import in_force_for_session
from db.sales.ordering.buyer import ID_TYPES, Buyer
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER, ItemRequest, create_order
from db.sales.ordering.preview import QuoteTicket, quote
from db.sales.policy import concession_kinds
from db.sales.queries import availability, seat_plan
from db.sales.status import BOX_OFFICE
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, go, ids, listed
from web.i18n import seat_label
from web.sales.inquiry import picked_seats, session_context
from web.templating import render

CHANNEL = BOX_OFFICE


async def _tickets(session_id: int, data: dict[str, Any], prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per ticket chosen in step 1: each picked seat (of any section), and each unit of a
    general-admission class. Every count is bounded (and their sum) before a row is built."""
    classes = {p["id"]: p for p in prices}
    picked = sorted(set(ids(listed(data, "seat_id"), "seat_id")))
    counts = {
        pc["id"]: form_number(data, f"qty_{pc['id']}", maximum=MAX_TICKETS_PER_ORDER)
        for pc in prices
        if not pc["seat_class"]
    }
    if len(picked) + sum(counts.values()) > MAX_TICKETS_PER_ORDER:
        raise InvalidInput("The quantity must be between 1 and {max}.", field="items", max=MAX_TICKETS_PER_ORDER)
    seats = {s["id"]: s for s in await seat_plan(session_id, seat_ids=picked)} if picked else {}
    tickets = []
    for seat_id in picked:
        seat = seats.get(seat_id)
        if seat is None:
            raise InvalidInput("Seat {seat} is not sold for this session.", field="items", seat=seat_id)
        pc = classes[seat["price_class_id"]]
        label = seat_label(seat["section"], seat["row_label"], seat["number"])
        tickets.append(
            {
                "key": f"s{seat_id}",
                "seat_id": seat_id,
                "price_class_id": pc["id"],
                "label": label,
                "class_name": pc["name"],
                "list_fen": pc["price_fen"],
            }
        )
    for pc in prices:
        if pc["seat_class"]:
            continue
        for i in range(counts[pc["id"]]):
            tickets.append(
                {
                    "key": f"g{pc['id']}_{i}",
                    "seat_id": None,
                    "price_class_id": pc["id"],
                    "label": pc["name"],
                    "class_name": pc["name"],
                    "list_fen": pc["price_fen"],
                }
            )
    if not tickets:
        raise InvalidInput("Choose seats on the plan or enter a quantity first.", field="items")
    return tickets


def _items(data: dict[str, Any], tickets: list[dict[str, Any]]) -> list[ItemRequest]:
    """The order lines: one per seat; general admission merged per class and concession (each concession
    ticket keeps its own checked ID)."""
    items: list[ItemRequest] = []
    plain: dict[int, int] = {}
    for t in tickets:
        concession = field_text(data, f"conc_{t['key']}")
        checked = (
            {"id_type": field_text(data, f"idtype_{t['key']}"), "id_number": field_text(data, f"idno_{t['key']}")}
            if concession
            else {}
        )
        if t["seat_id"] is not None:
            items.append(ItemRequest(seat_id=t["seat_id"], concession=concession, **checked))
        elif concession:
            items.append(ItemRequest(price_class_id=t["price_class_id"], quantity=1, concession=concession, **checked))
        else:
            plain[t["price_class_id"]] = plain.get(t["price_class_id"], 0) + 1
    items += [ItemRequest(price_class_id=pc, quantity=n) for pc, n in plain.items()]
    return items


def _holders(data: dict[str, Any], tickets: list[dict[str, Any]]) -> list[Holder]:
    """A real-name session's holder of each ticket, in the order _items makes the order lines (and the tickets
    are issued): seats and concession tickets as listed, then the other general-admission tickets per class."""

    def holder(t: dict[str, Any]) -> Holder:
        key = t["key"]
        return Holder(
            field_text(data, f"holder_name_{key}"),
            field_text(data, f"holder_id_{key}"),
            field_text(data, f"holder_type_{key}") or "id_card",
        )

    first = [t for t in tickets if t["seat_id"] is not None or field_text(data, f"conc_{t['key']}")]
    rest: dict[int, list[dict[str, Any]]] = {}
    for t in tickets:
        if t not in first:
            rest.setdefault(t["price_class_id"], []).append(t)
    return [holder(t) for t in first] + [holder(t) for group in rest.values() for t in group]


async def _offer(data: dict[str, Any], session_id: int) -> Offer | None:
    chosen = form_number(data, "promotion")
    if not chosen:
        return None
    return next((o for o in await promotions.offers(session_id, CHANNEL) if o.id == chosen), None)


def _buyer(data: dict[str, Any]) -> Buyer:
    return Buyer(
        field_text(data, "buyer_name"),
        field_text(data, "buyer_phone"),
        field_text(data, "buyer_email"),
        field_text(data, "buyer_id_number"),
    )


async def _step(
    request: Request, session_id: int, data: dict[str, Any], step: str, status_code: int = 200, **extra: Any
) -> Template:
    picked = picked_seats(listed(data, "seat_id"))
    ctx = await session_context(session_id, picked, field_text(data, "section") or None, form=data, step=step, **extra)
    if step == "details":
        ctx["tickets"] = await _tickets(session_id, data, ctx["prices"])
        ctx["quote"] = await quote(
            session_id,
            [QuoteTicket(t["price_class_id"], field_text(data, f"conc_{t['key']}")) for t in ctx["tickets"]],
            await _offer(data, session_id),
        )
        ctx |= {
            "realname": await realname.is_realname(session_id),
            "offers": await promotions.offers(session_id, CHANNEL),
            "concessions": await concession_kinds(),
            "id_types": ID_TYPES,
            "refund_rules": (await in_force_for_session(session_id)).rules,
        }
    return render(request, "sales/session.html", partial="sales/_order_panel.html", status_code=status_code, **ctx)


@get("/sales/sessions/{session_id:int}/order", guards=[requires(Permission.SALES_SELL)])
async def order_tickets(request: Request, session_id: FromPath[int]) -> Template:
    """Step 1 again (back from the details), keeping the seats and quantities chosen."""
    data = {k: request.query_params.getall(k) if k == "seat_id" else v for k, v in request.query_params.items()}
    return await _step(request, session_id, data, "tickets")


@post("/sales/sessions/{session_id:int}/order/details", guards=[requires(Permission.SALES_SELL)])
async def order_details(request: Request, session_id: FromPath[int], data: Form) -> Template:
    """Step 2 (also re-rendered when a concession changes, to update the price preview). Writes nothing."""
    try:
        return await _step(request, session_id, data, "details")
    except DomainError as exc:  # nothing chosen, a bad quantity or seat: back to the tickets
        return await _step(request, session_id, data, "tickets", exc.status_code, **failure(exc))


@post("/sales/sessions/{session_id:int}/orders", guards=[requires(Permission.SALES_SELL)])
async def order_place(request: Request, session_id: FromPath[int], data: Form) -> Response:
    """Place the order and hold its stock; then the order page (hold countdown, audit or payment)."""
    try:
        tickets = await _tickets(session_id, data, (await availability(session_id))["price_classes"])
    except DomainError as exc:
        return await _step(request, session_id, data, "tickets", exc.status_code, **failure(exc))
    try:
        summary = await create_order(
            request.user.actor,
            session_id=session_id,
            channel=CHANNEL,
            buyer=_buyer(data),
            items=_items(data, tickets),
            holders=_holders(data, tickets),
            promotion_id=form_number(data, "promotion") or None,
        )
    except Conflict as exc:  # seat taken, sold out: the fresh plan keeps the picks that are still free
        return await _step(request, session_id, data, "tickets", exc.status_code, **failure(exc))
    except DomainError as exc:
        return await _step(request, session_id, data, "details", exc.status_code, **failure(exc))
    return go(request, f"/sales/orders/{summary.code}")


ROUTES = [order_tickets, order_details, order_place]
