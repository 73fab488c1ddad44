"""Partner API: exchanges of a partner's own orders (issue 11, R5.4), in the style of the refund contract
(web/sales/partner_refunds.py).

- GET /api/v1/orders/{code}/exchange-quote?session_id=S&price_class_id=C&seat_ids=1,2&ticket_ids=3,4 (no
  ticket_ids: every valid ticket of the order; seat_ids: one per ticket for a seated class, none for general
  admission) -> 200 {"allowed", "reason", "fee_fen", "value_fen", "new_price_fen", "difference_fen",
  "policy_version"}; `reason` is a code (exchange_too_late, exchange_not_allowed, already_used,
  already_refunded, foreign_ticket, not_paid, no_tickets) or null. `value_fen` is the old tickets' price less
  the exchange fee, carried to the new tickets; `difference_fen` = new price - value: debited to the partner
  when positive, credited when negative.
- POST /api/v1/orders/{code}/exchanges with Idempotency-Key and {"session_id", "price_class_id", "seat_ids",
  "ticket_ids"} -> 201 {"id", "number", "status", "order_code", "new_order_code", "ticket_ids", "fee_fen",
  "new_price_fen", "difference_fen", "new_tickets"}; the old codes are void at every gate at once, the new
  tickets (a new order of the same buyer) carry their QR texts. A retry with the same key answers the same
  exchange. A refused exchange is a 409 problem body whose `reason` is the code; a seat taken meanwhile is a
  409 with `reason` "seat_taken" (choose another seat)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from db.core.errors import InvalidInput
from db.sales.aftersale.exchanges import Target, exchange, quote_exchange
from web.errors import problem_responses
from web.forms import Id, QueryId
from web.sales.partner_api import PARTNER, TicketOut, partner_key_guard, partner_tickets
from web.sales.partner_refunds import parse_id_list

MAX_TICKETS = 500


class ExchangeQuoteOut(msgspec.Struct):
    allowed: bool
    reason: str | None
    fee_fen: int
    value_fen: int  # the old tickets' price less the fee, carried to the new tickets
    new_price_fen: int
    difference_fen: int  # + debited to the partner, - credited
    policy_version: int


IdList = Annotated[list[Id], msgspec.Meta(max_length=MAX_TICKETS)]


class ExchangeIn(msgspec.Struct, forbid_unknown_fields=True):
    session_id: Id
    price_class_id: Id
    seat_ids: IdList = []  # a seated class: one per ticket, in the order of ticket_ids (or of the order's tickets)
    ticket_ids: IdList | None = None  # omitted: every valid ticket of the order


class ExchangeOut(msgspec.Struct):
    id: int
    number: str
    status: str  # done
    order_code: str
    new_order_code: str
    ticket_ids: list[int]  # the old tickets, now void
    fee_fen: int
    new_price_fen: int
    difference_fen: int
    new_tickets: list[TicketOut]


@get(
    "/api/v1/orders/{code:str}/exchange-quote",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    responses=problem_responses(400, 401, 404, 409, 422),
)
async def exchange_quote(
    request: Request,
    code: FromPath[str],
    session_id: QueryId = None,
    price_class_id: QueryId = None,
    seat_ids: FromQuery[str | None] = None,
    ticket_ids: FromQuery[str | None] = None,
) -> ExchangeQuoteOut:
    """What exchanging these tickets of the partner's order for the target would cost now (nothing changes)."""
    if session_id is None or price_class_id is None:
        raise InvalidInput("Name the session_id and price_class_id to exchange to.", field="session_id")
    target = Target(session_id, price_class_id, tuple(parse_id_list(seat_ids, "seat_ids") or ()))
    q = await quote_exchange(
        code, parse_id_list(ticket_ids), target, channel="partner", partner_id=request.scope["partner"].id
    )
    return ExchangeQuoteOut(
        q.allowed, q.reason, q.fee_fen, q.refund_fen, q.new_price_fen, q.difference_fen, q.policy_version
    )


@post(
    "/api/v1/orders/{code:str}/exchanges",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    status_code=201,
    responses=problem_responses(400, 401, 404, 409, 415, 422),
)
async def create_exchange(
    request: Request,
    code: FromPath[str],
    idempotency_key: Annotated[
        str, HeaderParameter(name="Idempotency-Key", required=True, min_length=1, max_length=100)
    ],
    data: JSONBody[ExchangeIn],
) -> ExchangeOut:
    """Exchange tickets of the partner's order for another seat, class or session of the same event; the
    difference is debited or credited to the partner."""
    partner = request.scope["partner"]
    done = await exchange(
        partner.actor,
        code,
        data.ticket_ids,
        Target(data.session_id, data.price_class_id, tuple(data.seat_ids)),
        channel="partner",
        method="partner",
        partner_id=partner.id,
        idempotency_key=idempotency_key,
    )
    return ExchangeOut(
        done.id,
        done.number,
        "done",
        done.order_code,
        done.new_order_code,
        done.ticket_ids,
        done.fee_fen,
        done.new_price_fen,
        done.difference_fen,
        await partner_tickets(done.new_order_code),
    )


ROUTES = [exchange_quote, create_exchange]
