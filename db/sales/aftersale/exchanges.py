"""Exchanges (R5.4, issue 11): tickets of an order for another seat, another class or another session of the
same event, within the exchange window of the buyer's rules.

`quote_exchange` reads only: the one quote (db.sales.aftersale.rules.quote, kind "exchange", with the
version in force at purchase and the one in force now, the better for the buyer) for the tickets, carrying
their price less the exchange fee to the new tickets at the target's price in force; the difference is what
the buyer pays (+) or gets back (-).

`exchange` is ONE write transaction: the old codes are revoked with a conditional UPDATE (a ticket already
revoked is refused) and logged for offline gates (the revocation delta), a ticket admitted meanwhile refuses
it, the old seats or quota are given back, the target seats are taken with the conditional UPDATE of
db.inventory.stock (two exchanges aiming at one free seat: one wins, the other is refused and rolls back
whole), the new order (same buyer, channel and partner) is written paid and its tickets issued with their
signed codes, the buyer's contract and purchase time carried over (the free window does not restart), and
the ledger entries: on the old order the tickets' sale reversed, the fee kept and the value carried out
(method "exchange"); on the new order the sale, the value carried in and the price difference by its
method. After the commit the new tickets are e-mailed (a failed e-mail is a failed delivery, the exchange
stands). With a partner's Idempotency-Key a retry answers the same exchange."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from db.audit.record import record
from db.catalog.tables import EventSession, SessionSeat
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, DomainError, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance import ledger
from db.inventory import realname
from db.inventory import stock as holds
from db.inventory.allocations import attempts, session_shares
from db.sales import notes
from db.sales.aftersale.refunds import (
    RefundRefused,
    _chosen,
    _order,
    _OrderFacts,
    _quote,
    _tickets,
    void_tickets,
)
from db.sales.aftersale.rules import EXCHANGE, Quote
from db.sales.aftersale.tables import Exchange, ExchangeTicket
from db.sales.history import add_event
from db.sales.ordering.context import sale_context
from db.sales.ordering.orders import new_order_code
from db.sales.ordering.pricing import unit_price
from db.sales.payments.providers import provider
from db.sales.policy import concession_rules
from db.sales.rows import item_row, paid_payment_row
from db.sales.status import PAID, WINDOW_METHODS
from db.sales.tables import Order, OrderItem, Payment, Ticket
from db.sales.tickets.issuing import issue_tickets

log = logging.getLogger("ticketcenter.exchanges")

# How the difference moves, by where the exchange is made: a window payment or payout (cash from the seller's
# drawer, card or mobile with its reference), the partner's account, or the online provider (the shop).
DIFFERENCE_METHODS = (*WINDOW_METHODS, "partner", "sandbox")
SEAT_TAKEN = "A seat you chose was just taken by another sale. Choose another seat."
SOLD_OUT = "Sold out: fewer than {n} tickets are left in this class."
PAY_AT_WINDOW = "This exchange costs {amount} more: exchanges that cost more are paid at a box office window."
DIFFERENCE_AT_WINDOW = "The price difference of this exchange is settled at a box office window."


class SeatTaken(Conflict):
    """A target seat (or the class's last tickets) went to another sale; `reason` "seat_taken" in the API."""

    def __init__(self, message: str = SEAT_TAKEN, **params: object) -> None:
        super().__init__(message, field="seat_ids", **params)
        self.problem_extra = {"reason": "seat_taken"}


@dataclass(frozen=True, slots=True)
class Target:
    """Where the tickets go: a session of the same event, one of its price classes and, for a seated class,
    one seat per ticket (in the order of the tickets)."""

    session_id: int
    price_class_id: int
    seat_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeResult:
    id: int
    number: str
    order_code: str
    new_order_code: str
    ticket_ids: list[int]  # the old tickets, now void
    new_ticket_ids: list[int]
    price_fen: int
    fee_fen: int
    new_price_fen: int
    difference_fen: int
    method: str
    breakdown: dict


@dataclass(frozen=True, slots=True)
class _Priced:
    session_id: int
    price_class_id: int
    seat_ids: tuple[int, ...]
    units: tuple[tuple[int, dict], ...]  # per new ticket: its price and breakdown
    total_fen: int
    taken: bool  # a chosen seat is not free now (refused after the tickets' own refusals)


async def _priced(order: _OrderFacts, rows: list[dict], target: Target, channel: str, now: dt.datetime) -> _Priced:
    """The target checked (same event, on sale, the class of that session, one free seat of the class per
    ticket or none for general admission, not the tickets' own place) and priced at the price in force, with
    each ticket's concession kept."""
    session = await EventSession.select(EventSession.event).where(EventSession.id == target.session_id).first()
    if session is None or session["event"] != order.event_id:
        raise InvalidInput("Choose a session of the same event.", field="session_id")
    context = await sale_context(target.session_id, channel, now)
    pc = context.classes.get(target.price_class_id)
    if pc is None:
        raise InvalidInput("Choose a price class of that session.", field="price_class_id")
    seats = tuple(target.seat_ids)
    if pc.seat_class:
        if len(seats) != len(rows) or len(set(seats)) != len(seats):
            raise InvalidInput("Choose one seat for each ticket.", field="seat_ids")
        stock = await SessionSeat.select(SessionSeat.seat, SessionSeat.status).where(
            (SessionSeat.session == target.session_id)
            & (SessionSeat.price_class == target.price_class_id)
            & SessionSeat.seat.is_in(list(seats))
        )
        if len(stock) != len(seats):
            raise InvalidInput("A seat you chose is not in that class.", field="seat_ids")
        taken = any(s["status"] != "free" for s in stock)
    elif seats:
        raise InvalidInput("General admission has no seats to choose.", field="seat_ids")
    else:
        taken = pc.available < len(rows)
    ticket_rows = await Ticket.select(Ticket.id, Ticket.session, Ticket.price_class, Ticket.seat).where(
        Ticket.id.is_in([r["id"] for r in rows])
    )
    places = {(t["session"], t["price_class"], t["seat"]) for t in ticket_rows}
    wanted = {(target.session_id, target.price_class_id, s) for s in seats} or {
        (target.session_id, target.price_class_id, None)
    }
    if places & wanted:
        raise InvalidInput("Choose another seat, class or session than the ticket has.", field="seat_ids")
    concessions = {
        r["id"]: r["concession"]
        for r in await Ticket.select(Ticket.id, Ticket.concession).where(Ticket.id.is_in([r["id"] for r in rows]))
    }
    rules = await concession_rules({c for c in concessions.values() if c})
    units = tuple(unit_price(pc.price_fen, rules.get(concessions[r["id"]]), 0) for r in rows)
    return _Priced(target.session_id, target.price_class_id, seats, units, sum(u for u, _ in units), taken)


async def quote_exchange(
    code: str,
    ticket_ids: Iterable[int] | None,
    target: Target,
    *,
    channel: str = "box_office",
    partner_id: int | None = None,
    waived: bool = False,
    now: dt.datetime | None = None,
) -> Quote:
    """What exchanging these tickets (None: every valid ticket of the order) for `target` costs now (`waived`: the
    organiser changed the session, no fee and no window). Reads only; a target that is wrong raises InvalidInput
    (422), NotFound or Conflict (409: not on sale, seat taken)."""
    now = now or utcnow()
    order = await _order(code, partner_id)
    rows = await _tickets(order)
    try:
        chosen, whole = _chosen(rows, ticket_ids)
    except RefundRefused as refused:
        return Quote(EXCHANGE, False, refused.reason, 0, 0, 0, 0, None)
    priced = await _priced(order, chosen, target, channel, now)
    q = await _quote(order, chosen, whole, now, waived, kind=EXCHANGE, new_price_fen=priced.total_fen)
    if q.allowed and priced.taken:
        raise SeatTaken(SEAT_TAKEN if priced.seat_ids else SOLD_OUT, n=len(chosen))
    return q


def _result(row: dict, code: str, new_code: str, pairs: list[tuple[int, int]]) -> ExchangeResult:
    return ExchangeResult(
        row["id"],
        row["number"],
        code,
        new_code,
        [old for old, _ in pairs],
        [new for _, new in pairs],
        row["price_fen"],
        row["fee_fen"],
        row["new_price_fen"],
        row["difference_fen"],
        row["method"],
        row["breakdown"],
    )


async def _stored(condition) -> ExchangeResult | None:
    row = (
        await Exchange.select(*Exchange.all_columns(), Exchange.order.code, Exchange.new_order.code)
        .where(condition)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    pairs = (
        await ExchangeTicket.select(ExchangeTicket.old_ticket, ExchangeTicket.new_ticket)
        .where(ExchangeTicket.exchange == row["id"])
        .order_by(ExchangeTicket.id)
    )
    return _result(row, row["order.code"], row["new_order.code"], [(p["old_ticket"], p["new_ticket"]) for p in pairs])


async def get_exchange(number: str) -> ExchangeResult:
    found = await _stored(Exchange.number == number)
    if found is None:
        raise NotFound("No such exchange.")
    return found


async def exchanges_of_order(order_id: int) -> list[dict]:
    """The exchanges that took tickets out of this order or made it, oldest first."""
    return (
        await Exchange.select(*Exchange.all_columns(), Exchange.order.code, Exchange.new_order.code)
        .where((Exchange.order == order_id) | (Exchange.new_order == order_id))
        .order_by(Exchange.id)
        .output(load_json=True)
    )


async def exchange(
    actor: Actor,
    code: str,
    ticket_ids: Iterable[int] | None,
    target: Target,
    *,
    channel: str,
    method: str,
    reference: str = "",
    partner_id: int | None = None,
    idempotency_key: str | None = None,
    charge_allowed: bool = True,
    deliver: bool = True,
    waived: bool = False,
    now: dt.datetime | None = None,
) -> ExchangeResult:
    """Exchange tickets of an order (None: all its valid tickets) for `target`; `method` moves the difference
    ('' when none may move: only an exchange of equal value); `charge_allowed` False refuses one that costs more;
    `waived`: the organiser changed the session (fee-free, as its free refund).
    Raises RefundRefused (409 with the reason: too late, used, already refunded or exchanged), Conflict (409:
    the seat was just taken, not on sale), InvalidInput, NotFound. Nothing is half-written."""
    now = now or utcnow()
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 100):
        raise InvalidInput("An Idempotency-Key has 1 to 100 characters.", field="Idempotency-Key")
    if method not in (*DIFFERENCE_METHODS, ""):
        raise InvalidInput("Choose how the price difference is paid.", field="method")
    keyed = (Exchange.partner == partner_id) & (Exchange.idempotency_key == idempotency_key)
    if partner_id is not None and idempotency_key and (done := await _stored(keyed)):
        return done
    try:
        async with queued_write(Order._meta.db):
            result = await _exchange(
                actor,
                code,
                ticket_ids,
                target,
                channel,
                method,
                reference.strip()[:64],
                partner_id,
                idempotency_key,
                charge_allowed,
                waived,
                now,
            )
    except Exception:
        # A concurrent copy of this partner request won (the key's unique index, or the tickets it revoked).
        if partner_id is not None and idempotency_key and (done := await _stored(keyed)):
            return done
        raise
    if result.method == "sandbox" and result.difference_fen < 0:
        await _pay_back_online(result)
    if deliver:
        await _deliver(actor, result.new_order_code)
    return result


async def _pay_back_online(result: ExchangeResult) -> None:
    """An online order's difference goes back through the provider after the commit, idempotent by the
    exchange number; the outcome is audited (a refusal is handled by hand from the audit log)."""
    payment = (
        await Payment.select(Payment.reference)
        .where((Payment.order.code == result.order_code) & (Payment.status == "succeeded"))
        .first()
    )
    try:
        accepted = provider("sandbox").refund(payment["reference"] if payment else "", -result.difference_fen)
    except Exception as exc:  # network or provider failure: recorded, never silent
        accepted = False
        log.warning("provider refund of exchange %s failed: %s", result.number, type(exc).__name__)
    system = Actor.system("payment provider")
    async with queued_write(Order._meta.db):
        await record(
            system,
            "exchange.provider",
            "order",
            result.order_code,
            summary=result.number,
            after={"exchange": result.number, "amount_fen": -result.difference_fen, "accepted": accepted},
        )


async def _deliver(actor: Actor, code: str) -> None:
    from db.sales.delivery.operations import send_ticket_email

    order = await Order.select(Order.buyer_email).where(Order.code == code).first()
    if order and order["buyer_email"]:
        try:
            await send_ticket_email(actor, code)
        except DomainError as exc:  # recorded as a failed delivery; the seller or the buyer sends it again
            log.warning("exchange e-mail for order %s not sent: %s", code, type(exc).__name__)


async def _lock_places(ticket_ids: list[int], priced: _Priced) -> None:
    """The seats and classes this exchange gives back and takes, locked in one order (two exchanges swapping
    seats queue instead of deadlocking on PostgreSQL; the later one is then told its seat was taken)."""
    old = await Ticket.select(Ticket.session, Ticket.seat, Ticket.price_class).where(Ticket.id.is_in(ticket_ids))
    seats: dict[int, list[int]] = {}
    for t in old:
        if t["seat"] is not None:
            seats.setdefault(t["session"], []).append(t["seat"])
    seats.setdefault(priced.session_id, []).extend(priced.seat_ids)
    await holds.lock_places(seats, [t["price_class"] for t in old] + [priced.price_class_id])


def _movements(q: Quote, method: str, reference: str, number: str) -> tuple[list, list]:
    carried = q.price_fen - q.fee_fen
    old = [
        ledger.Movement(ledger.SALE, -q.price_fen, note=number),
        ledger.Movement(ledger.FEE_KEPT, q.fee_fen, note=number),
        ledger.Movement(ledger.REFUND, -carried, ledger.EXCHANGE_METHOD, number, number),
    ]
    new = [
        ledger.Movement(ledger.SALE, q.new_price_fen, note=number),
        ledger.Movement(ledger.PAYMENT, carried, ledger.EXCHANGE_METHOD, number, number),
        ledger.Movement(ledger.PRICE_DIFFERENCE, q.difference_fen, method, reference, number),
    ]
    return old, new


async def _exchange(
    actor, code, ticket_ids, target, channel, method, reference, partner_id, key, charge_allowed, waived, now
):
    order = await _order(code, partner_id)
    rows = await _tickets(order)
    chosen, whole = _chosen(rows, ticket_ids)
    priced = await _priced(order, chosen, target, channel, now)
    q = await _quote(order, chosen, whole, now, waived, kind=EXCHANGE, new_price_fen=priced.total_fen)
    if not q.allowed:
        raise RefundRefused(q.reason)
    if priced.taken:
        raise SeatTaken(SEAT_TAKEN if priced.seat_ids else SOLD_OUT, n=len(chosen))
    if q.difference_fen > 0 and not charge_allowed:
        raise Conflict(PAY_AT_WINDOW, field="price_class_id", amount=f"¥{q.difference_fen / 100:.2f}")
    if q.difference_fen != 0 and not method:
        raise Conflict(DIFFERENCE_AT_WINDOW, field="price_class_id")
    if method in ("card", "mobile") and q.difference_fen != 0 and not reference:
        raise InvalidInput("Enter the reference of the card or mobile payment.", field="reference")
    ids = [r["id"] for r in chosen]
    # Void first: the old codes are revoked before anything is written. Then (tickets, seats, classes: the order
    # every writer locks in) the places given back and taken, before the old stock goes back.
    await void_tickets(order, chosen, now, give_back=False)
    await _lock_places(ids, priced)
    await holds.give_back_tickets(ids)
    buyer = (
        await Order.select(Order.buyer_name, Order.buyer_phone, Order.buyer_email, Order.buyer_id_masked, Order.outlet)
        .where(Order.id == order.id)
        .first()
    )
    new_code = new_order_code()
    new_id = (
        await Order.insert(
            Order(
                code=new_code,
                session=priced.session_id,
                channel=order.channel,
                status=PAID,
                **buyer,
                total_fen=priced.total_fen,
                subtotal_fen=priced.total_fen,
                seller=actor.user_id,
                partner=order.partner_id,
                needs_audit=False,
                created_at=now,
                paid_at=order.paid_at,  # the purchase time carries over
            )
        ).returning(Order.id)
    )[0]["id"]
    items = [
        OrderItem(
            **item_row(
                new_id,
                price_class=priced.price_class_id,
                seat=seat,
                quantity=1,
                list_price_fen=breakdown.get("list_fen", unit),
                concession=breakdown.get("concession", ""),
                id_type="",
                id_masked="",
                unit_price_fen=unit,
                breakdown={**breakdown, "exchange_of": [ids[i]]},
            )
        )
        for i, ((unit, breakdown), seat) in enumerate(
            zip(priced.units, priced.seat_ids or [None] * len(ids), strict=True)
        )
    ]
    await OrderItem.insert(*items)
    if priced.seat_ids and not await holds.hold_seats(priced.session_id, list(priced.seat_ids), new_code, None):
        raise SeatTaken()
    # The new tickets come out of the order's channel's allocation of the class, if it has allocations.
    shares = (await session_shares(priced.session_id)).get(priced.price_class_id, [])
    for allocation in attempts(shares, order.channel, "", order.partner_id, len(ids)):
        if await holds.take(priced.price_class_id, len(ids), allocation, seated=bool(priced.seat_ids)):
            if allocation is not None:
                await OrderItem.update({OrderItem.allocation: allocation}).where(OrderItem.order == new_id)
            break
    else:
        raise SeatTaken() if priced.seat_ids else SeatTaken(SOLD_OUT, n=len(ids))
    new_ids = await issue_tickets(new_id, new_code, priced.session_id, now)
    purchased = min((r["issued_at"] or order.paid_at) for r in chosen)
    await Ticket.update({Ticket.policy_version: q.policy_version, Ticket.issued_at: purchased}).where(
        Ticket.order == new_id
    )
    await Payment.insert(
        Payment(
            **paid_payment_row(
                new_id,
                method=order.method or method,
                amount_fen=priced.total_fen,
                outcome="exchange",
                actor=actor,
                now=now,
            )
        )
    )
    number = "EX" + now.strftime("%y%m%d") + secrets.token_hex(5).upper()
    row = (
        await Exchange.insert(
            Exchange(
                number=number,
                order=order.id,
                new_order=new_id,
                method=method if q.difference_fen else "",
                price_fen=q.price_fen,
                fee_fen=q.fee_fen,
                new_price_fen=q.new_price_fen,
                difference_fen=q.difference_fen,
                policy_version=q.policy_version,
                breakdown=q.breakdown(),
                channel=channel,
                partner=partner_id,
                idempotency_key=key,
                reference=reference,
                actor_id=actor.user_id,
                actor_name=actor.name,
                at=now,
            )
        ).returning(*Exchange.all_columns())
    )[0]
    pairs = list(zip(ids, new_ids, strict=True))
    await realname.carry_over(pairs, now)  # a real-name ticket's holder goes with it (issue 13)
    await ExchangeTicket.insert(*(ExchangeTicket(exchange=row["id"], old_ticket=o, new_ticket=n) for o, n in pairs))
    old_moves, new_moves = _movements(q, method, reference, number)
    common = {"channel": order.channel, "partner_id": order.partner_id, "drawer_id": actor.user_id}
    await ledger.post(actor, now, order.id, old_moves, **common)
    await ledger.post(actor, now, new_id, new_moves, **common)
    note = notes.note(
        "exchange",
        number=number,
        tickets=len(ids),
        order=order.code,
        new_order=new_code,
        fee_fen=q.fee_fen,
        difference_fen=q.difference_fen,
    )
    await add_event(order.id, PAID, actor, now, note)
    await add_event(new_id, PAID, actor, now, note)
    await record(
        actor,
        "exchange.create",
        "order",
        order.code,
        summary=note,
        after={
            "exchange": number,
            "new_order": new_code,
            "tickets": ids,
            "new_tickets": new_ids,
            "target": {
                "session": priced.session_id,
                "price_class": priced.price_class_id,
                "seats": list(priced.seat_ids),
            },
            "method": row["method"],
            "reference": reference,
            "breakdown": q.breakdown(),
        },
    )
    row["breakdown"] = q.breakdown()
    return _result(row, order.code, new_code, pairs)


async def exchange_options(code: str, session_id: int | None = None, price_class_id: int | None = None) -> dict:
    """What an order's tickets can be exchanged for, for the exchange forms: the sessions of its event on
    sale, the chosen session's classes with the price in force, and the chosen seated class's free seats."""
    from db.sales.queries import availability, seat_plan

    order = await _order(code, None)
    sessions = (
        await EventSession.select(
            EventSession.id, EventSession.starts_at, EventSession.venue.name, EventSession.venue.timezone
        )
        .where(
            (EventSession.event == order.event_id)
            & (EventSession.status == "on_sale")
            & (EventSession.ends_at > utcnow())
        )
        .order_by(EventSession.starts_at)
    )
    chosen = next((s for s in sessions if s["id"] == session_id), None)
    classes = (await availability(chosen["id"]))["price_classes"] if chosen else []
    pc = next((c for c in classes if c["id"] == price_class_id), None)
    seats = (
        [s for s in await seat_plan(chosen["id"]) if s["price_class_id"] == pc["id"] and s["status"] == "free"]
        if pc and pc["seat_class"]
        else []
    )
    return {"sessions": sessions, "session": chosen, "classes": classes, "price_class": pc, "seats": seats}
