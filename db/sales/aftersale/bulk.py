"""Refunds of many whole orders in one transaction (issue 11, R9.3): the bulk cancellation job's fast path.

The same refund as refunds.request_refund, set-based: the ONE quote (rules.quote, with the organiser's waiver:
fee-free) per order, void first (one conditional UPDATE revokes every ticket of the chunk, then the gate's
admissions are checked again), the numbered revocation log, the stock given back, one Refund with its
breakdown and lines per order, its ledger entries when the money moves at once (a partner's credit), the
order's status and history, one audit entry per order. A few statements per chunk instead of a dozen per
order. Anything irregular (an order not paid, a ticket used or already refunded, a payment it cannot send
back) raises Irregular before anything is written: the caller redoes the chunk order by order with
request_refund, which refuses that one order with its reason."""

from __future__ import annotations

import datetime as dt
import secrets

from db.audit.record import entry
from db.audit.tables import AuditEntry
from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.rows import insert_many
from db.finance.ledger import entry_row
from db.finance.tables import LedgerEntry
from db.gate.tables import Admission
from db.inventory import stock as holds
from db.sales import notes
from db.sales.aftersale import policies
from db.sales.aftersale.refunds import APPROVED, DONE, IMMEDIATE_METHODS, _movements
from db.sales.aftersale.rules import TicketTerms, quote
from db.sales.aftersale.tables import Refund, RefundTicket, Revocation
from db.sales.rows import event_row
from db.sales.status import PAID, REFUNDED, TICKET_ISSUED, TICKET_REVOKED
from db.sales.tables import Order, OrderEvent, Payment, Ticket


class Irregular(Exception):
    """The chunk holds an order the set-based path does not refund; redo it order by order."""


def _method(order: dict, payment: dict | None) -> str:
    method = payment["method"] if payment else ""
    if order["partner"] is not None or method == "partner":
        return "partner"
    if method in ("cash", "card", "mobile", "sandbox"):
        return method
    raise Irregular(f"order {order['code']}: no payment to refund")


async def refund_orders(
    actor: Actor, session_id: int, order_ids: list[int], *, cause: str, now: dt.datetime
) -> dict[int, tuple[int, int]]:
    """Refund every valid ticket of these orders of one session, fee-free (the organiser's waiver), inside the
    caller's write transaction: {order id: (refund id, money back in fen)}. Raises Irregular."""
    if not order_ids:
        return {}
    session = await EventSession.select(EventSession.starts_at).where(EventSession.id == session_id).first()
    orders = {
        o["id"]: o
        for o in await Order.select(Order.id, Order.code, Order.status, Order.channel, Order.partner).where(
            Order.id.is_in(order_ids) & (Order.session == session_id)
        )
    }
    payments: dict[int, dict] = {}
    for p in (
        await Payment.select(Payment.order, Payment.method, Payment.reference)
        .where(Payment.order.is_in(order_ids) & (Payment.status == "succeeded"))
        .order_by(Payment.id)
    ):
        payments[p["order"]] = p  # the latest succeeded payment
    tickets = (
        await Ticket.select(
            Ticket.id,
            Ticket.order,
            Ticket.price_fen,
            Ticket.status,
            Ticket.policy_version,
            Ticket.issued_at,
            Ticket.seat,
            Ticket.price_class,
            Ticket.seat.obstructed,
        )
        .where(Ticket.order.is_in(order_ids))
        .order_by(Ticket.id)
    )
    live = [t for t in tickets if t["status"] == TICKET_ISSUED]
    ids = [t["id"] for t in live]
    by_order: dict[int, list[dict]] = {}
    for t in live:
        by_order.setdefault(t["order"], []).append(t)
    if (
        set(orders) != set(order_ids)
        or any(o["status"] != PAID for o in orders.values())
        or set(by_order) != set(order_ids)
    ):
        raise Irregular("an order is not paid, not of this session, or has no valid ticket")
    if ids and await Admission.exists().where(Admission.ticket.is_in(ids)):
        raise Irregular("a ticket was used at the gate")
    versions = {v: await policies.get_version(v) for v in {t["policy_version"] for t in live}}
    quotes = {}
    for order_id, rows in by_order.items():
        version = versions[rows[0]["policy_version"]]
        terms = [
            TicketTerms(t["id"], t["price_fen"], t["issued_at"] or now, t["status"], False, bool(t["seat.obstructed"]))
            for t in rows
        ]
        quotes[order_id] = quote(version.rules, version.version, terms, session["starts_at"], now, waived=True)
    methods = {order_id: _method(orders[order_id], payments.get(order_id)) for order_id in order_ids}
    # Void first: every code of the chunk, then the gate's admissions again (one committed while we waited).
    revoked = (
        await Ticket.update({Ticket.status: TICKET_REVOKED, Ticket.revoked_at: now})
        .where(Ticket.id.is_in(ids) & (Ticket.status == TICKET_ISSUED))
        .returning(Ticket.id)
    )
    if len(revoked) != len(ids) or await Admission.exists().where(Admission.ticket.is_in(ids)):
        raise Irregular("a ticket changed meanwhile")  # the caller's transaction rolls back
    await insert_many(Revocation, [{"ticket": t, "session": session_id, "at": now} for t in ids])
    day = now.strftime("%y%m%d")
    breakdowns = {order_id: q.breakdown() for order_id, q in quotes.items()}
    refund_rows = []
    for order_id in order_ids:
        q, method, order = quotes[order_id], methods[order_id], orders[order_id]
        settle = method in IMMEDIATE_METHODS and method != "cash"  # cash is paid out at the window
        refund_rows.append(
            dict(
                number="RF" + day + secrets.token_hex(5).upper(),
                order=order_id,
                status=DONE if settle else APPROVED,
                cause=cause,
                method=method,
                price_fen=q.price_fen,
                fee_fen=q.fee_fen,
                refund_fen=q.refund_fen,
                policy_version=q.policy_version,
                breakdown=breakdowns[order_id],
                proof="",
                id_masked="",
                channel="bulk",
                partner=order["partner"],
                idempotency_key=None,
                requested_by_id=actor.user_id,
                requested_by_name=actor.name,
                requested_at=now,
                approved_by_id=None,
                approved_by_name="",
                approved_at=now,
                reference="",
                done_at=now if settle else None,
                failure="",
            )
        )
    await insert_many(Refund, refund_rows)
    numbers = {order_id: r["number"] for order_id, r in zip(order_ids, refund_rows, strict=True)}
    refund_ids = {
        r["order"]: r["id"]
        for r in await Refund.select(Refund.id, Refund.order).where(Refund.number.is_in(list(numbers.values())))
    }
    await insert_many(
        RefundTicket,
        [
            {
                "refund": refund_ids[order_id],
                "ticket": line.ticket_id,
                "price_fen": line.price_fen,
                "fee_fen": line.fee_fen,
                "refund_fen": line.refund_fen,
            }
            for order_id in order_ids
            for line in quotes[order_id].lines
        ],
    )
    entries = []
    for order_id, row in zip(order_ids, refund_rows, strict=True):
        if row["status"] != DONE:
            continue
        for movement in _movements(row["method"], quotes[order_id], "", row["number"]):
            if movement.amount_fen:
                entries.append(
                    entry_row(
                        actor,
                        now,
                        order_id,
                        movement,
                        channel=orders[order_id]["channel"],
                        partner_id=orders[order_id]["partner"],
                        refund_id=refund_ids[order_id],
                    )
                )
    await insert_many(LedgerEntry, entries)
    moved = (
        await Order.update({Order.status: REFUNDED})
        .where(Order.id.is_in(order_ids) & (Order.status == PAID))
        .returning(Order.id)
    )
    if len(moved) != len(order_ids):
        raise Irregular("an order changed meanwhile")
    notes = {
        order_id: notes.note(
            "refund",
            number=numbers[order_id],
            tickets=len(quotes[order_id].lines),
            refund_fen=quotes[order_id].refund_fen,
            fee_fen=quotes[order_id].fee_fen,
        )
        for order_id in order_ids
    }
    await insert_many(OrderEvent, [event_row(o, REFUNDED, actor, now, notes[o]) for o in order_ids])
    await insert_many(
        AuditEntry,
        [
            entry(
                actor,
                "refund.request",
                "order",
                orders[o]["code"],
                summary=notes[o],
                after={
                    "refund": numbers[o],
                    "status": refund_rows[i]["status"],
                    "tickets": [line.ticket_id for line in quotes[o].lines],
                    "method": methods[o],
                    "breakdown": breakdowns[o],
                    "cause": cause,
                },
            )
            for i, o in enumerate(order_ids)
        ],
    )
    # The seats and quota back into the allocations their lines drew from, as a single refund gives them back
    # (the same function, a few statements for the whole chunk), last: the class and allocation rows every sale
    # and refund of the session updates stay locked until the commit.
    await holds.give_back_tickets(ids)
    return {o: (refund_ids[o], quotes[o].refund_fen) for o in order_ids}
