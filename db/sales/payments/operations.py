"""Payment (R3.4 step 4) and issue: window payments confirmed by the seller, partner-prepaid orders,
and online payments through a PaymentProvider with a signed, idempotent callback.

Exactly one payment settles an order: the move to `paid` is a conditional UPDATE on the order's status.
A payment that arrives after the hold expired re-holds the stock if it is still free ("reheld"), else
it is refunded automatically ("refund_due"). Tickets are issued in the same transaction.

A payment provider is never called inside a write transaction: a checkout is created before the pending
payment is recorded; a refund is recorded as due (committed), then sent, then its outcome recorded with a
conditional UPDATE, so a repeated or concurrent outcome is recorded once."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance import ledger
from db.finance.reconciliation import provider_books
from db.inventory import realname
from db.inventory import stock as holds
from db.sales.history import add_event, transition
from db.sales.ordering import rush
from db.sales.payments.providers import Checkout, provider
from db.sales.rows import paid_payment_row
from db.sales.status import (
    AWAITING_AUDIT,
    AWAITING_PAYMENT,
    CANCELLED,
    EXPIRED,
    HELD,
    PAID,
    PAYABLE,
    REFUNDED,
    REJECTED,
    WINDOW_METHODS,
)
from db.sales.tables import Order, OrderItem, Payment, PaymentRefund
from db.sales.tickets.issuing import issue_tickets

log = logging.getLogger("ticketcenter.payments")
TERMINAL_REFERENCE = re.compile(r"[0-9A-Za-z-]{4,40}")


@dataclass(frozen=True, slots=True)
class PaymentResult:
    code: str
    status: str  # the order's status afterwards
    outcome: str  # accepted | reheld | refund_due | already_paid | ignored
    payment_id: int | None = None
    change_fen: int | None = None
    ticket_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _DueRefund:
    """A refund recorded as due (PaymentRefund status pending), to be sent after the transaction commits."""

    refund_id: int
    payment_id: int
    order_code: str
    reference: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class _Money:
    method: str
    amount_fen: int
    tendered_fen: int | None = None
    change_fen: int | None = None
    reference: str = ""  # a card or mobile terminal's slip number (凭证号 / 交易单号)


async def _order(code: str, partner_id: int | None = None) -> dict:
    query = Order.select(
        Order.id,
        Order.code,
        Order.status,
        Order.session,
        Order.total_fen,
        Order.expires_at,
        Order.partner,
        Order.channel,
    )
    order = await query.where(Order.code == code).first()
    if order is None or (partner_id is not None and order["partner"] != partner_id):
        raise NotFound("No such order.")
    return order


async def _rehold(order: dict) -> bool:
    """Take the stock of an expired order again if all of it is still free (in the allocations it came from)."""
    items = await OrderItem.select(
        OrderItem.price_class, OrderItem.seat, OrderItem.quantity, OrderItem.allocation
    ).where(OrderItem.order == order["id"])
    seats = [i["seat"] for i in items if i["seat"] is not None]
    if seats and not await holds.hold_seats(order["session"], seats, order["code"], None):
        return False
    wanted: dict[tuple[int, int | None, bool], int] = {}
    for i in items:
        key = (i["price_class"], i["allocation"], i["seat"] is not None)
        wanted[key] = wanted.get(key, 0) + i["quantity"]
    taken = []
    for (pc_id, allocation, seated), quantity in sorted(wanted.items(), key=lambda w: (not w[0][2], w[0][0])):
        if not await holds.take(pc_id, quantity, allocation, seated):
            for back in taken:
                await holds.give_back(*back)
            await holds.release_seats(order["code"])
            return False
        taken.append((pc_id, quantity, allocation, seated))
    return True


async def _take_payment(
    actor: Actor, code: str, now: dt.datetime, partner_id: int | None = None
) -> tuple[dict, str | None]:
    """Move the order to paid: (order, "accepted" or "reheld"), or (order, None) when it cannot be paid.
    The common case is one conditional UPDATE; an expired hold is released and re-taken if still free."""
    condition = (Order.code == code) & Order.status.is_in(list(PAYABLE))
    condition &= Order.expires_at.is_null() | (Order.expires_at >= now)
    if partner_id is not None:
        condition &= Order.partner == partner_id
    won = (
        await Order.update({Order.status: PAID, Order.paid_at: now})
        .where(condition)
        .returning(
            Order.id, Order.code, Order.session, Order.total_fen, Order.needs_audit, Order.channel, Order.partner
        )
    )
    if won:
        order = {**won[0], "status": AWAITING_PAYMENT if won[0]["needs_audit"] else HELD}
        await add_event(order["id"], PAID, actor, now)
        return order, "accepted"
    order = await _order(code, partner_id)
    if await transition(order["id"], PAYABLE, EXPIRED, holds.SYSTEM, now, "hold expired"):
        await holds.release_order_stock(order["id"], order["code"])
        await record(holds.SYSTEM, "order.expire", "order", order["code"])
    elif (await _order(code))["status"] != EXPIRED:
        return order, None
    order["status"] = EXPIRED
    if await _rehold(order) and await transition(
        order["id"],
        [EXPIRED],
        PAID,
        actor,
        now,
        "paid after the hold expired; stock held again",
        values={"paid_at": now},
    ):
        return order, "reheld"
    return order, None


async def _record_paid(
    actor: Actor, order: dict, money: _Money, outcome: str, now: dt.datetime, payment_id: int | None = None
) -> PaymentResult:
    row = paid_payment_row(
        order["id"],
        method=money.method,
        amount_fen=money.amount_fen,
        outcome=outcome,
        actor=actor,
        now=now,
        tendered_fen=money.tendered_fen,
        change_fen=money.change_fen,
    )
    if payment_id is None:
        payment_id = (await Payment.insert(Payment(**row)).returning(Payment.id))[0]["id"]
    else:  # an online payment, pending since it started, settles (keeping its reference and start time)
        settled = {getattr(Payment, k): v for k, v in row.items() if k not in ("order", "created_at")}
        await Payment.update(settled).where(Payment.id == payment_id)
    ticket_ids = await issue_tickets(order["id"], order["code"], order["session"], now)
    await realname.bind_tickets(ticket_ids)
    await ledger.post(
        actor,
        now,
        order["id"],
        [
            ledger.Movement(ledger.SALE, money.amount_fen),
            ledger.Movement(ledger.PAYMENT, money.amount_fen, money.method, money.reference),
        ],
        channel=order["channel"],
        partner_id=order["partner"],
        payment_id=payment_id,
        drawer_id=actor.user_id,
    )
    await record(
        actor,
        "order.pay",
        "order",
        order["code"],
        before={"status": order["status"]},
        after={
            "status": PAID,
            "method": money.method,
            "amount_fen": money.amount_fen,
            "outcome": outcome,
            "tickets": len(ticket_ids),
        },
    )
    return PaymentResult(order["code"], PAID, outcome, payment_id, money.change_fen, ticket_ids)


def _refusal(status: str) -> Conflict:
    if status == PAID:
        return Conflict("This order is paid already.")
    if status == AWAITING_AUDIT:
        return Conflict("This order waits for an auditor's approval before it can be paid.")
    if status == EXPIRED:
        return Conflict("The hold of this order expired and its tickets were sold to others. Place a new order.")
    return Conflict("This order cannot be paid (it is {status}).", status=status)


async def confirm_window_payment(
    actor: Actor,
    code: str,
    method: str,
    tendered_fen: int | None = None,
    now: dt.datetime | None = None,
    *,
    reference: str = "",
) -> PaymentResult:
    """The seller confirms money received at the window: cash (with the amount tendered; change is
    computed), card or mobile payment with the terminal's reference (the slip's 凭证号 or the mobile
    transaction number, matched at the shift's close and in the reconciliation). Issues the tickets; the
    money goes into the seller's open shift (db/finance/ledger.py)."""
    now = now or utcnow()
    if method not in WINDOW_METHODS:
        raise InvalidInput("Choose how the buyer pays: cash, bank card or mobile payment.", field="method")
    reference = reference.strip()
    if method != "cash" and not TERMINAL_REFERENCE.fullmatch(reference):
        raise InvalidInput(
            "Enter the terminal's reference from the slip (凭证号 or 交易单号: 4 to 40 letters and digits).",
            field="reference",
        )
    if method == "cash" and tendered_fen is None:
        raise InvalidInput("The cash tendered is less than the total. Take at least the total.", field="tendered_fen")
    async with queued_write(Order._meta.db):
        order, outcome = await _take_payment(actor, code, now)
        if outcome is None:
            raise _refusal((await _order(code))["status"])
        money = _Money(method, order["total_fen"], reference=reference)
        if method == "cash":
            if tendered_fen < order["total_fen"]:  # rolls the payment back
                raise InvalidInput(
                    "The cash tendered is less than the total. Take at least the total.", field="tendered_fen"
                )
            money = _Money(method, order["total_fen"], tendered_fen, tendered_fen - order["total_fen"])
        return await _record_paid(actor, order, money, outcome, now)


async def pay_prepaid(actor: Actor, code: str, partner_id: int, now: dt.datetime | None = None) -> PaymentResult:
    """A partner platform has collected the money: settle its own order. Paying again returns the paid order."""
    now = now or utcnow()
    if rush.enabled() and (paid := await rush.pay(actor, code, partner_id, "partner", now)):
        payment_id, ticket_ids = paid
        await realname.bind_tickets(ticket_ids)  # a real-name order's holders get their tickets
        return PaymentResult(code, PAID, "accepted", payment_id, None, ticket_ids)
    async with queued_write(Order._meta.db):
        order, outcome = await _take_payment(actor, code, now, partner_id)
        if outcome is None:
            status = (await _order(code))["status"]
            if status == PAID:
                return PaymentResult(code, PAID, "already_paid")
            raise _refusal(status)
        return await _record_paid(actor, order, _Money("partner", order["total_fen"]), outcome, now)


async def start_online_payment(
    actor: Actor, code: str, provider_name: str = "sandbox", now: dt.datetime | None = None
) -> Checkout:
    """Create a pending payment with the provider; the customer pays on the returned checkout."""
    now = now or utcnow()
    payments = provider(provider_name)
    order = await _order(code)
    if order["status"] not in PAYABLE:
        raise _refusal(order["status"])
    amount_fen = order["total_fen"]
    checkout = payments.checkout(code, amount_fen)  # the provider, before the write transaction
    async with queued_write(Order._meta.db):
        order = await _order(code)  # again: it may have changed meanwhile (an unused checkout is harmless)
        if order["status"] not in PAYABLE:
            raise _refusal(order["status"])
        if order["total_fen"] != amount_fen:
            raise Conflict("The order changed while the payment was being prepared. Try again.")
        payment_id = (
            await Payment.insert(
                Payment(
                    order=order["id"],
                    method=payments.name,
                    amount_fen=order["total_fen"],
                    reference=checkout.reference,
                    status="pending",
                    created_at=now,
                )
            ).returning(Payment.id)
        )[0]["id"]
        await record(
            actor,
            "payment.start",
            "order",
            code,
            after={"payment": payment_id, "provider": payments.name, "amount_fen": order["total_fen"]},
        )
    return checkout


def _ignored(reason: str, reference: str, code: str = "") -> PaymentResult:
    log.warning("payment callback ignored: %s (reference %s, order %s)", reason, reference, code or "-")
    return PaymentResult(code, "", "ignored")


async def handle_payment_callback(
    provider_name: str, body: bytes, signature: str, now: dt.datetime | None = None
) -> PaymentResult:
    """The provider's server-to-server notice. A forged signature raises InvalidInput; an unknown payment,
    a wrong amount or an order that is paid already changes nothing (logged, outcome "ignored");
    the same notice again is harmless."""
    now = now or utcnow()
    payments = provider(provider_name)
    data = payments.parse_callback(body, signature)
    if data is None:
        log.warning("payment callback with a bad signature from provider %s", provider_name)
        raise InvalidInput("The payment notice's signature is not valid.")
    actor = Actor.system(f"payment:{provider_name}")
    async with queued_write(Order._meta.db):
        payment = (
            await Payment.select(Payment.id, Payment.order, Payment.amount_fen, Payment.status)
            .where((Payment.reference == data.reference) & (Payment.method == payments.name))
            .first()
        )
        if payment is None:
            return _ignored("unknown payment", data.reference, data.order_code)
        order = (
            await Order.select(
                Order.id, Order.code, Order.status, Order.session, Order.total_fen, Order.expires_at, Order.partner
            )
            .where(Order.id == payment["order"])
            .first()
        )
        if order["code"] != data.order_code:
            return _ignored("order does not match the payment", data.reference, data.order_code)
        if payment["status"] != "pending":
            return _ignored(f"payment already {payment['status']}", data.reference, order["code"])
        if data.amount_fen != payment["amount_fen"] or data.amount_fen != order["total_fen"]:
            return _ignored("amount does not match the order", data.reference, order["code"])
        if order["status"] == PAID:
            return _ignored("order already paid", data.reference, order["code"])
        # Claim the payment: a concurrent copy of this notice finds it no longer pending.
        claimed = (
            await Payment.update({Payment.status: "processing"})
            .where((Payment.id == payment["id"]) & (Payment.status == "pending"))
            .returning(Payment.id)
        )
        if not claimed:
            return _ignored("payment already being processed", data.reference, order["code"])
        if not data.succeeded:
            await Payment.update({Payment.status: "failed"}).where(Payment.id == payment["id"])
            await record(actor, "payment.fail", "order", order["code"], after={"payment": payment["id"]})
            return PaymentResult(order["code"], order["status"], "failed", payment["id"])
        order, outcome = await _take_payment(actor, order["code"], now)
        if outcome is not None:
            money = _Money(payments.name, data.amount_fen, reference=data.reference)
            return await _record_paid(actor, order, money, outcome, now, payment["id"])
        result, due = await _record_refund_due(actor, order, payment["id"], data, now)
    await send_refund(payments, actor, due)  # committed first: the provider is called outside
    return result


async def _record_refund_due(
    actor: Actor, order: dict, payment_id: int, data, now: dt.datetime
) -> tuple[PaymentResult, _DueRefund]:
    """Money arrived for an order that can no longer be served (expired and sold on, cancelled, rejected,
    or paid by another payment): record that it must go back, and say so."""
    await Payment.update({Payment.status: "succeeded", Payment.outcome: "refund_due", Payment.confirmed_at: now}).where(
        Payment.id == payment_id
    )
    reason = "payment arrived after the hold expired and the tickets were sold"
    refund_id = (
        await PaymentRefund.insert(
            PaymentRefund(
                payment=payment_id,
                order=order["id"],
                amount_fen=data.amount_fen,
                reason=reason,
                status="pending",
                created_at=now,
            )
        ).returning(PaymentRefund.id)
    )[0]["id"]
    status = (await _order(order["code"]))["status"]
    if status != PAID and await transition(order["id"], [EXPIRED, CANCELLED, REJECTED], REFUNDED, actor, now, reason):
        status = REFUNDED
    await record(
        actor,
        "payment.refund_due",
        "order",
        order["code"],
        after={"payment": payment_id, "refund": refund_id, "amount_fen": data.amount_fen},
    )
    due = _DueRefund(refund_id, payment_id, order["code"], data.reference, data.amount_fen)
    return PaymentResult(order["code"], status, "refund_due", payment_id), due


async def send_refund(payments, actor: Actor, due: _DueRefund) -> bool:
    """Outside any write transaction: ask the provider to send a due refund, then record that it did. The
    outcome is a conditional UPDATE of the pending refund, so sending again records nothing twice. A refund
    the provider does not accept stays pending (logged). True when this call recorded the refund as done."""
    try:
        sent = payments.refund(due.reference, due.amount_fen)
    except Exception:
        log.exception("refund of payment %s failed at the provider; it stays pending", due.payment_id)
        return False
    if not sent:
        log.warning("refund of payment %s not accepted by the provider; it stays pending", due.payment_id)
        return False
    if payments.name == "sandbox":  # the sandbox books the refund it accepted (its daily statement, issue 12)
        await provider_books("refund", due.reference, due.order_code, due.amount_fen)
    async with queued_write(Order._meta.db):
        done = (
            await PaymentRefund.update({PaymentRefund.status: "done"})
            .where((PaymentRefund.id == due.refund_id) & (PaymentRefund.status == "pending"))
            .returning(PaymentRefund.id)
        )
        if not done:
            return False
        await Payment.update({Payment.status: "refunded"}).where(Payment.id == due.payment_id)
        await record(
            actor,
            "payment.refund",
            "order",
            due.order_code,
            after={"payment": due.payment_id, "refund": due.refund_id, "amount_fen": due.amount_fen},
        )
    return True


async def sandbox_checkout(reference: str) -> dict:
    """What the sandbox checkout page shows: the order code, amount and payment status."""
    row = (
        await Payment.select(Payment.reference, Payment.amount_fen, Payment.status, Payment.order.code)
        .where((Payment.reference == reference) & (Payment.method == "sandbox"))
        .first()
    )
    if row is None:
        raise NotFound("No such payment.")
    return {
        "reference": row["reference"],
        "amount_fen": row["amount_fen"],
        "status": row["status"],
        "order_code": row["order.code"],
    }


async def sandbox_pay(reference: str, now: dt.datetime | None = None) -> PaymentResult:
    """The customer pays on the sandbox checkout: the sandbox sends its signed notice to our callback."""
    checkout = await sandbox_checkout(reference)
    sandbox = provider("sandbox")
    await provider_books("payment", reference, checkout["order_code"], checkout["amount_fen"], now)  # its own books
    body, signature = sandbox.callback_body(reference, checkout["order_code"], checkout["amount_fen"])
    return await handle_payment_callback("sandbox", body, signature, now)
