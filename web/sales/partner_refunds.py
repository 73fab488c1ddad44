"""Partner API: refunds of a partner's own orders (issue 11, R5.3). Keep this contract exactly; other tools
are built against it.

- GET /api/v1/orders/{code}/refund-quote?ticket_ids=1,2 (no ticket_ids: the whole order) -> 200
  {"allowed", "reason", "fee_fen", "refund_fen", "policy_version"}; `reason` is a code (too_late,
  already_used, already_refunded, whole_order_only, foreign_ticket, not_paid, no_tickets) or null.
- POST /api/v1/orders/{code}/refunds with Idempotency-Key and {"ticket_ids": [...]} (omitted: the whole order)
  -> 201 {"id", "status", "fee_fen", "refund_fen", "ticket_ids"}; a retry with the same key answers the same
  refund; a refused refund is a 409 problem body whose detail says why and whose `reason` is the code.
The money is credited to the partner (a ledger entry with the partner), so the refund is `done` at once."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from db.core.errors import InvalidInput
from db.sales.aftersale.refunds import quote_refund, request_refund
from web.errors import problem_responses
from web.forms import ids as parse_ids
from web.sales.partner_api import PARTNER, partner_key_guard

MAX_IDS_TEXT = 4000
TOO_LONG = {"ticket_ids": "ticket_ids is too long.", "seat_ids": "seat_ids is too long."}


class RefundQuoteOut(msgspec.Struct):
    allowed: bool
    reason: str | None
    fee_fen: int
    refund_fen: int
    policy_version: int


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    ticket_ids: list[int] | None = None


class RefundOut(msgspec.Struct):
    id: int
    status: str
    fee_fen: int
    refund_fen: int
    ticket_ids: list[int]


def parse_id_list(text: str | None, field: str = "ticket_ids") -> list[int] | None:
    """Ids in a query string, "1,2,3" (None when absent or empty), each a bounded whole number."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_IDS_TEXT:
        raise InvalidInput(TOO_LONG[field], field=field)
    return parse_ids([part.strip() for part in text.split(",")], field)


@get(
    "/api/v1/orders/{code:str}/refund-quote",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    responses=problem_responses(400, 401, 404, 409, 422),
)
async def refund_quote(
    request: Request, code: FromPath[str], ticket_ids: FromQuery[str | None] = None
) -> RefundQuoteOut:
    """What refunding these tickets of the partner's order (none named: the whole order) would pay back now."""
    q = await quote_refund(code, parse_id_list(ticket_ids), partner_id=request.scope["partner"].id)
    return RefundQuoteOut(q.allowed, q.reason, q.fee_fen, q.refund_fen, q.policy_version)


@post(
    "/api/v1/orders/{code:str}/refunds",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    status_code=201,
    responses=problem_responses(400, 401, 404, 409, 415, 422),
)
async def create_refund(
    request: Request,
    code: FromPath[str],
    idempotency_key: Annotated[
        str, HeaderParameter(name="Idempotency-Key", required=True, min_length=1, max_length=100)
    ],
    data: JSONBody[RefundIn | None] = None,
) -> RefundOut:
    """Refund tickets of the partner's order (the whole order without ticket_ids); the codes are void at every
    gate at once and the money is credited to the partner."""
    partner = request.scope["partner"]
    ticket_ids = data.ticket_ids if data is not None else None
    if ticket_ids is not None and any(t < 1 or t > 2**31 - 1 for t in ticket_ids):
        raise InvalidInput("Ticket ids are whole numbers from 1.", field="ticket_ids")
    refund = await request_refund(
        partner.actor,
        code,
        ticket_ids,
        channel="partner",
        partner_id=partner.id,
        idempotency_key=idempotency_key,
    )
    return RefundOut(refund.id, refund.status, refund.fee_fen, refund.refund_fen, sorted(refund.ticket_ids))


ROUTES = [refund_quote, create_refund]
