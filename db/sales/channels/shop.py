"""The public shop's side of the sales flow (R3.3 online channel, R3.4): what a customer picked becomes
order lines, orders are placed under a rate limit as channel `web_shop`, paid through the sandbox
provider's checkout, and the e-tickets are e-mailed. Built on db.sales.ordering.orders / payments / delivery."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput
from db.core.throttle import ORDER_ATTEMPT, ORDERS_PER_CLIENT, attempt
from db.inventory.realname import Holder
from db.sales.aftersale.refunds import contract, exchange_quote, quote_refund
from db.sales.aftersale.rules import Quote, Rules
from db.sales.delivery.operations import deliver_e_tickets
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, OrderSummary, create_order
from db.sales.payments.operations import PaymentResult, sandbox_checkout, sandbox_pay, start_online_payment
from db.sales.payments.providers import Checkout
from db.sales.queries import get_order
from db.sales.status import PAID, TICKET_ISSUED

CHANNEL = "web_shop"
MAX_TICKETS = 10  # larger (group) orders go through the box office
log = logging.getLogger("ticketcenter.shop")


@dataclass(frozen=True, slots=True)
class ConcessionChoice:
    """`count` of the order's tickets at the concession `kind`, with the ID the holder will show."""

    kind: str
    count: int
    id_type: str
    id_number: str


def shop_items(
    seat_ids: list[int], quantities: dict[int, int], concession: ConcessionChoice | None = None
) -> list[ItemRequest]:
    """Order lines for the chosen seats (seated) or quantities per price class (general admission); the
    concession goes to the first `count` tickets (seats in id order, then classes in id order)."""
    asked = len(set(seat_ids)) + sum(max(n, 0) for n in quantities.values())
    if asked > MAX_TICKETS:  # checked before anything is built from the counts
        raise InvalidInput(
            "At most {max} tickets per online order; for groups ask the box office.", field="seats", max=MAX_TICKETS
        )
    units: list[tuple[str, int]] = [("seat", s) for s in sorted(set(seat_ids))]
    units += [("class", pc) for pc, n in sorted(quantities.items()) for _ in range(max(n, 0))]
    if not units:
        raise InvalidInput("Choose at least one seat or ticket.", field="seats")
    count = concession.count if concession and concession.kind else 0
    if concession and concession.kind and not 1 <= count <= len(units):
        raise InvalidInput(
            "The number of concession tickets must be between 1 and the number of tickets.", field="concession_count"
        )
    extra = (
        {"concession": concession.kind, "id_type": concession.id_type, "id_number": concession.id_number}
        if count
        else {}
    )
    items = [
        ItemRequest(seat_id=ref, **(extra if i < count else {}))
        for i, (kind, ref) in enumerate(units)
        if kind == "seat"
    ]
    full = Counter(ref for i, (kind, ref) in enumerate(units) if kind == "class" and i >= count)
    reduced = Counter(ref for i, (kind, ref) in enumerate(units) if kind == "class" and i < count)
    items += [ItemRequest(price_class_id=pc, quantity=n, **extra) for pc, n in sorted(reduced.items())]
    items += [ItemRequest(price_class_id=pc, quantity=n) for pc, n in sorted(full.items())]
    return items


async def place_order(
    client: str,
    session_id: int,
    buyer: Buyer,
    items: list[ItemRequest],
    holders: Sequence[Holder] = (),
    promotion_id: int | None = None,
) -> OrderSummary:
    """Hold the customer's tickets (rate-limited per client), with the buyer details the shop's policy for the
    kind of event asks for (db/sales/policy.py). A real-name session needs a holder per ticket; a promotion on
    sale in the shop may be chosen (issue 13)."""
    await attempt(client, ORDER_ATTEMPT, ORDERS_PER_CLIENT)
    return await create_order(
        Actor.customer(client),
        session_id=session_id,
        channel=CHANNEL,
        buyer=buyer,
        items=items,
        holders=holders,
        promotion_id=promotion_id,
    )


async def start_payment(client: str, code: str) -> Checkout:
    """A pending payment with the sandbox provider for a payable order."""
    return await start_online_payment(Actor.customer(client), code, "sandbox")


async def checkout(reference: str) -> dict:
    """The sandbox checkout's view of a payment: reference, order_code, amount_fen, status."""
    return await sandbox_checkout(reference)


async def pay(reference: str) -> PaymentResult:
    """The customer pays on the sandbox checkout (the provider sends its signed notice to our callback)."""
    return await sandbox_pay(reference)


async def email_tickets(client: str, code: str) -> bool:
    """Send the e-tickets of a paid order where the buyer asked (e-mail, else SMS); False (logged, recorded as a
    failed delivery) if it failed."""
    try:
        await deliver_e_tickets(Actor.customer(client), code)
    except (Conflict, InvalidInput):
        log.warning("ticket e-mail for shop order %s not sent", code)
        return False
    return True


def settled(result: PaymentResult) -> bool:
    """The payment made the order paid (in time, or late with the stock still free): tickets are issued."""
    return result.status == PAID and result.outcome in ("accepted", "reheld")


@dataclass(frozen=True, slots=True)
class CustomerOrder:
    order: dict
    refund: Quote | None  # what a refund of the valid tickets would cost now (paid orders)
    exchange: Quote | None
    outcome: str  # the last settled payment's outcome: accepted | reheld | refund_due | ''
    rules: Rules | None = None  # the refund and exchange rules the tickets were sold under


async def customer_order(code: str, now: dt.datetime | None = None) -> CustomerOrder:
    """The order as its customer sees it, with today's refund and exchange quotes (R5.1, R5.2)."""
    now = now or utcnow()
    order = await get_order(code)
    valid = [t for t in order["tickets"] if t["status"] == TICKET_ISSUED]
    refund = exchange = None
    if order["status"] == PAID and valid:
        refund = await quote_refund(code, now=now)
        exchange = await exchange_quote(code, now=now)
    settled = [p["outcome"] for p in order["payments"] if p["outcome"]]
    rules = (await contract(code)).rules
    return CustomerOrder(order, refund, exchange, settled[-1] if settled else "", rules)
