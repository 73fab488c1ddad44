"""Partner API for third-party platforms (R3.3), under /api/v1, documented at /schema.

`Authorization: Bearer <key>` per partner (401 problem without a valid one); errors are RFC 9457
problem bodies (web/errors.py): 400/422 bad input, 404 unknown or another partner's order, 409 sold out
or seat taken. Handlers are thin: they translate JSON to db.sales operations and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Schema
from litestar.params import FromPath, HeaderParameter, JSONBody, KwargDefinition

from db.core.errors import InvalidInput
from db.core.i18n import seat_label, translate
from db.inventory.allocations import buyable_by_class
from db.inventory.realname import Holder
from db.sales.aftersale import policies
from db.sales.aftersale.rules import describe
from db.sales.channels.partners import PartnerIdentity, partner_for_key
from db.sales.ordering.buyer import BUYER_DETAILS, Buyer
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER, ItemRequest, create_order
from db.sales.payments.operations import pay_prepaid
from db.sales.policy import buyer_details_needed
from db.sales.queries import availability, events_on_sale, order_status, order_tickets, seat_plan
from web.errors import problem_responses
from web.forms import Id

PARTNER = {"partner": True}
CHANNEL = "partner"


async def partner_key_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Let through requests with an active partner's API key; the partner is kept in the scope."""
    scheme, _, key = connection.headers.get("authorization", "").partition(" ")
    partner = await partner_for_key(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
    if partner is None:
        raise NotAuthorizedException("Send a valid partner API key: Authorization: Bearer <key>.")
    connection.scope["partner"] = partner


def _partner(request: Request) -> PartnerIdentity:
    return request.scope["partner"]


class Gate(msgspec.Struct):
    code: str
    name: str


class Session(msgspec.Struct):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    seated: bool
    venue: str
    gates: list[Gate]


class TierOut(msgspec.Struct):
    hours_before: int  # the tier applies while at least this many hours are left before the start
    percent: int  # the fee, percent of the ticket's price
    min_fee_fen: int
    max_fee_fen: int | None


class RulesText(msgspec.Struct):
    zh_CN: list[str]
    en: list[str]


class RulesOut(msgspec.Struct):
    """The refund and exchange rules in force now (issue 11, R5.1): shown to buyers before payment. A ticket
    keeps the version in force when it was issued; a later version never worsens its terms."""

    policy_version: int
    refund_tiers: list[TierOut]  # from the most hours before the start; later than the last: no refund
    free_window_hours: int  # refunds within this many hours after purchase are fee-free
    whole_order_only: bool
    exchange_allowed: bool
    exchange_tiers: list[TierOut]
    text: RulesText  # the same rules as buyers read them, in Simplified Chinese and English


class Event(msgspec.Struct):
    id: int
    name: str
    kind: str
    sessions: list[Session]
    rules: RulesOut
    # what an order of this event must give of its buyer (policy per kind of event and channel, R1.1):
    # some of "name", "phone", "email", "id"
    buyer_details: list[str]


class PriceClass(msgspec.Struct):
    id: int
    name: str
    price_fen: int
    available: int
    seated: bool


class Seat(msgspec.Struct):
    id: int
    label: str  # "池座 3排12座": see _partner_seat
    price_class_id: int
    status: str  # free | held | sold
    obstructed: bool = False  # obstructed view (shown to buyers as such; its refund is fee-free). Added: additive


class Availability(msgspec.Struct):
    session_id: int
    price_classes: list[PriceClass]
    seats: list[Seat]


Quantity = Annotated[int, msgspec.Meta(ge=1, le=MAX_TICKETS_PER_ORDER)]


class BuyerIn(msgspec.Struct):
    """The buyer details the event's `buyer_details` lists are required (422 naming each missing one); others
    may be left out."""

    name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=30)] = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    id_number: Annotated[str, msgspec.Meta(max_length=30)] = ""  # stored masked


class ItemIn(msgspec.Struct):
    """Either `price_class_id` + `quantity` (general admission; for a seated class the best adjacent
    seats) or `seat_id`."""

    price_class_id: Id | None = None
    quantity: Quantity | None = None
    seat_id: Id | None = None


# In the schema: an item has price_class_id with quantity, or seat_id (the rule _item applies).
ONE_KIND_OF_ITEM = KwargDefinition(
    schema_extra={"one_of": [Schema(required=["price_class_id", "quantity"]), Schema(required=["seat_id"])]}
)


class HolderIn(msgspec.Struct):
    """A ticket's holder on a real-name session (issue 13): the ID is stored masked, matched by a keyed hash."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
    id_type: Annotated[str, msgspec.Meta(max_length=20)] = "id_card"


class OrderIn(msgspec.Struct):
    session_id: Id
    items: Annotated[
        list[Annotated[ItemIn, ONE_KIND_OF_ITEM]], msgspec.Meta(min_length=1, max_length=MAX_TICKETS_PER_ORDER)
    ]
    buyer: BuyerIn
    # Real-name sessions: one holder per ticket, in the order of `items` (a quantity line takes that many).
    holders: Annotated[list[HolderIn], msgspec.Meta(max_length=MAX_TICKETS_PER_ORDER)] = []
    # The partner's outlet (shop, agent) that sold it: settled under that outlet's agreement if it has one (R8.1).
    outlet: Annotated[str, msgspec.Meta(max_length=60)] = ""


class OrderCreated(msgspec.Struct):
    code: str
    status: str
    total_fen: int
    expires_at: dt.datetime | None


class TicketOut(msgspec.Struct):
    id: int
    qr: str  # the exact text of the ticket's QR code
    short_code: str  # the ticket's short number (11 digits, the last a check digit): typed at a gate
    seat: str | None  # "池座 3排12座" (see _partner_seat); null for general admission
    status: str
    price_class: str
    price_fen: int


class OrderOut(msgspec.Struct):
    code: str
    status: str
    total_fen: int
    expires_at: dt.datetime | None
    tickets: list[TicketOut]


class PaidOut(msgspec.Struct):
    code: str
    status: str
    tickets: list[TicketOut]


def _item(item: ItemIn) -> ItemRequest:
    if item.seat_id is not None and item.price_class_id is None and item.quantity is None:
        return ItemRequest(seat_id=item.seat_id)
    if item.seat_id is None and item.price_class_id is not None and item.quantity is not None:
        return ItemRequest(price_class_id=item.price_class_id, quantity=item.quantity)
    raise InvalidInput('Each item is either {"price_class_id", "quantity"} or {"seat_id"}.', field="items")


def _partner_seat(section: str, row: str, number: int) -> str:
    """A seat as the partner API words it: always the Chinese "池座 3排12座", whatever language the pages use.
    Other platforms are built against this exact text: keep it stable (tests/sales/test_sales_partner_api.py)."""
    return seat_label(section, row, number, "zh_CN")


async def partner_tickets(code: str) -> list[TicketOut]:
    return [
        TicketOut(
            t["id"],
            t["code"],
            t["short_code"] or "",
            _partner_seat(t["seat.section"], t["seat.row_label"], t["seat.number"]) if t["seat"] else None,
            t["status"],
            t["price_class.name"],
            t["price_fen"],
        )
        for t in await order_tickets(code)
    ]


@get("/api/v1/events", guards=[partner_key_guard], opt=PARTNER, tags=["partner"], responses=problem_responses(401))
async def list_events() -> list[Event]:
    """Events with sessions on sale, and the gates that admit each session."""
    events = await events_on_sale()
    needed = {kind: await buyer_details_needed(kind, CHANNEL) for kind in {e["kind"] for e in events}}
    return [
        msgspec.convert(
            {
                **e,
                "rules": await _rules(e["id"]),
                "buyer_details": [d for d in BUYER_DETAILS if d in needed[e["kind"]]],
            },
            Event,
        )
        for e in events
    ]


async def _rules(event_id: int) -> RulesOut:
    version = await policies.in_force(event_id)
    r = version.rules
    lines = describe(r)
    return RulesOut(
        version.version,
        msgspec.convert([asdict(t) for t in r.refund_tiers], list[TierOut]),
        r.free_window_hours,
        r.whole_order_only,
        r.exchange_allowed,
        msgspec.convert([asdict(t) for t in r.exchange_tiers], list[TierOut]),
        RulesText(
            [translate("zh_CN", message, **params) for message, params in lines],
            [translate("en", message, **params) for message, params in lines],
        ),
    )


@get(
    "/api/v1/sessions/{session_id:int}/availability",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    responses=problem_responses(400, 401, 404),
)
async def session_availability(request: Request, session_id: FromPath[int]) -> Availability:
    """Live availability per price class (price in force now) and, for seated sessions, every seat's status.
    `available` is what this partner can buy: its own allocation of the class (plus the open pool where its
    allocation may draw on it), or the open pool when it has none (db/inventory/allocations.py)."""
    partner = _partner(request)
    counts = await availability(session_id)
    mine = await buyable_by_class(session_id, counts["price_classes"], CHANNEL, partner.name, partner.id)
    classes = [
        PriceClass(c["id"], c["name"], c["price_fen"], mine[c["id"]], bool(c["seat_class"]))
        for c in counts["price_classes"]
    ]
    seats = [
        Seat(
            s["id"],
            _partner_seat(s["section"], s["row_label"], s["number"]),
            s["price_class_id"],
            s["status"],
            s["obstructed"],
        )
        for s in await seat_plan(session_id)
    ]
    return Availability(session_id, classes, seats)


@post(
    "/api/v1/orders",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    status_code=201,
    responses=problem_responses(400, 401, 404, 409, 415, 422),
)
async def place_order(
    request: Request,
    data: JSONBody[OrderIn],
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", required=False, max_length=100)
    ] = None,
) -> OrderCreated:
    """Place an order and hold its tickets until `expires_at`. Send an Idempotency-Key: the same key
    again returns the same order and holds nothing more. 409 when sold out or a seat is taken."""
    partner = _partner(request)
    order = await create_order(
        partner.actor,
        session_id=data.session_id,
        channel=CHANNEL,
        buyer=Buyer(data.buyer.name, data.buyer.phone, data.buyer.email, data.buyer.id_number),
        items=[_item(i) for i in data.items],
        outlet=data.outlet.strip() or partner.name,
        partner_id=partner.id,
        idempotency_key=idempotency_key,
        holders=[Holder(h.name, h.id_number, h.id_type) for h in data.holders],
    )
    return OrderCreated(order.code, order.status, order.total_fen, order.expires_at)


@post(
    "/api/v1/orders/{code:str}/pay",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    status_code=200,
    responses=problem_responses(401, 404, 409, 422),
)
async def pay_order(request: Request, code: FromPath[str]) -> PaidOut:
    """The partner has collected the money: the order is paid and its tickets issued. Paying again
    returns the same tickets."""
    partner = _partner(request)
    paid = await pay_prepaid(partner.actor, code, partner.id)
    return PaidOut(code, paid.status, await partner_tickets(code))


@get(
    "/api/v1/orders/{code:str}",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    responses=problem_responses(401, 404),
)
async def show_order(request: Request, code: FromPath[str]) -> OrderOut:
    """One of the partner's own orders with its tickets."""
    order = await order_status(code, _partner(request).id)
    return OrderOut(
        order["code"], order["status"], order["total_fen"], order["expires_at"], await partner_tickets(code)
    )


ROUTES = [list_events, session_availability, place_order, pay_order, show_order]
