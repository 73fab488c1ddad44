"""Refunds (R5.3, R5.2, issue 11): void first, then money.

`request_refund` is ONE write transaction: it quotes (db.sales.aftersale.rules.quote, with the version in
force at purchase and the one in force now, the better for the buyer), revokes the tickets' codes with a
conditional UPDATE (a ticket already revoked is refused), then checks that none was admitted (the gate's
first entry locks the ticket row and needs it `issued`: a refund and a scan of one ticket end as exactly
one winner on both engines), gives the seats or quota back, records the refund with its breakdown and, when
the money can move at once (no approval needed; cash from the seller's drawer, a card or mobile reversal
with its reference, a partner credit), its ledger entries. Nothing is half-written: a refusal rolls it all
back.

States: requested (above the policy's threshold: waits for a supervisor, never the requester) -> approved
-> done | failed. A provider refund (sandbox) is asked for over HTTP after the commit, idempotent by the refund
number; it stays approved while the provider processes it, its outcome arrives by the provider's signed callback
(or when asked again), and a failure leaves the refund `failed` in the manual queue."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.transaction import queued_write
from db.finance import ledger
from db.gate.tables import Admission
from db.inventory import stock as holds
from db.sales import notes
from db.sales.aftersale import policies
from db.sales.aftersale.rules import (
    ALREADY_REFUNDED,
    ALREADY_USED,
    EXCHANGE,
    FOREIGN_TICKET,
    NO_TICKETS,
    REASONS,
    REFUND,
    Quote,
    TicketTerms,
    better,
    quote,
)
from db.sales.aftersale.tables import Refund, RefundTicket, Revocation
from db.sales.history import add_event, transition
from db.sales.ordering.buyer import mask_id
from db.sales.payments.providers import REFUND_PROCESSING, REFUND_SUCCEEDED, RefundAnswer, provider
from db.sales.status import PAID, REFUNDED, TICKET_ISSUED, TICKET_REVOKED
from db.sales.tables import Order, Payment, Ticket
from db.staff.permissions import Permission, role_allows

log = logging.getLogger("ticketcenter.refunds")

REQUESTED = "requested"
APPROVED = "approved"
DONE = "done"
FAILED = "failed"
DECLINED = "declined"
STATUSES = (REQUESTED, APPROVED, DONE, FAILED, DECLINED)
STATUS_LABELS = {
    REQUESTED: "Awaiting approval",
    APPROVED: "Approved",
    DONE: "Refunded",
    FAILED: "Failed",
    DECLINED: "Declined",
}
# How the money goes back, by the order's payment method (the original means).
IMMEDIATE_METHODS = ("cash", "partner")  # moved in the refund's own transaction
REFERENCE_METHODS = ("card", "mobile")  # moved when the seller records the reversal's reference
PROVIDER_METHODS = ("sandbox",)  # sent to the provider after the commit
MAX_TICKETS = 500


class RefundRefused(Conflict):
    """The rules or the tickets' state refuse the refund; `reason` is a key of rules.REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason
        self.problem_extra = {"reason": reason}


@dataclass(frozen=True, slots=True)
class RefundResult:
    id: int
    number: str
    status: str
    method: str
    fee_fen: int
    refund_fen: int
    ticket_ids: list[int]
    order_code: str
    breakdown: dict


@dataclass(frozen=True, slots=True)
class _OrderFacts:
    id: int
    code: str
    status: str
    channel: str
    partner_id: int | None
    paid_at: dt.datetime | None
    starts_at: dt.datetime
    session_id: int
    event_id: int
    method: str
    payment_reference: str


async def _order(code: str, partner_id: int | None) -> _OrderFacts:
    row = (
        await Order.select(
            Order.id,
            Order.code,
            Order.status,
            Order.channel,
            Order.partner,
            Order.paid_at,
            Order.created_at,
            Order.session,
            Order.session.starts_at,
            Order.session.event,
        )
        .where(Order.code == code.strip().upper())
        .first()
    )
    if row is None or (partner_id is not None and row["partner"] != partner_id):
        raise NotFound("No such order.")
    payment = (
        await Payment.select(Payment.method, Payment.reference)
        .where((Payment.order == row["id"]) & (Payment.status == "succeeded"))
        .order_by(Payment.id, ascending=False)
        .first()
    )
    return _OrderFacts(
        row["id"],
        row["code"],
        row["status"],
        row["channel"],
        row["partner"],
        row["paid_at"] or row["created_at"],
        row["session.starts_at"],
        row["session"],
        row["session.event"],
        payment["method"] if payment else "",
        (payment["reference"] or "") if payment else "",
    )


async def _tickets(order: _OrderFacts) -> list[dict]:
    rows = (
        await Ticket.select(
            Ticket.id, Ticket.price_fen, Ticket.status, Ticket.policy_version, Ticket.issued_at, Ticket.seat.obstructed
        )
        .where(Ticket.order == order.id)
        .order_by(Ticket.id)
    )
    ids = [r["id"] for r in rows]
    admitted = (
        {a["ticket"] for a in await Admission.select(Admission.ticket).where(Admission.ticket.is_in(ids))}
        if ids
        else set()
    )
    for r in rows:
        r["admitted"] = r["id"] in admitted
    return rows


def _chosen(rows: list[dict], ticket_ids: Iterable[int] | None) -> tuple[list[dict], bool]:
    """The tickets asked for (None: every valid ticket of the order) and whether that is the whole order."""
    if ticket_ids is None:
        chosen = [r for r in rows if r["status"] == TICKET_ISSUED] or rows
        return chosen, True
    wanted = list(dict.fromkeys(ticket_ids))
    if not wanted:
        raise RefundRefused(NO_TICKETS)
    if len(wanted) > MAX_TICKETS:
        raise InvalidInput("At most {n} tickets at once.", field="ticket_ids", n=MAX_TICKETS)
    by_id = {r["id"]: r for r in rows}
    if any(t not in by_id for t in wanted):
        raise RefundRefused(FOREIGN_TICKET)
    live = {r["id"] for r in rows if r["status"] == TICKET_ISSUED}
    return [by_id[t] for t in wanted], live <= set(wanted)


async def _quote(
    order: _OrderFacts,
    rows: list[dict],
    whole: bool,
    now: dt.datetime,
    waived: bool,
    *,
    kind: str = REFUND,
    new_price_fen: int = 0,
) -> Quote:
    """The better for the buyer of the quotes under the contract (the version at purchase) and the version now."""
    if order.status not in (PAID, REFUNDED):
        return Quote(kind, False, "not_paid", (await policies.in_force(order.event_id)).version, 0, 0, 0, None)
    current = await policies.in_force(order.event_id)
    purchase_versions = {r["policy_version"] for r in rows}
    purchase = await policies.get_version(purchase_versions.pop() if len(purchase_versions) == 1 else None)
    terms = [
        TicketTerms(
            r["id"],
            r["price_fen"],
            r["issued_at"] or order.paid_at,
            r["status"],
            r["admitted"],
            bool(r["seat.obstructed"]),
        )
        for r in rows
    ]

    def one(version: policies.PolicyVersion) -> Quote:
        return quote(
            version.rules,
            version.version,
            terms,
            order.starts_at,
            now,
            kind=kind,
            whole_order=whole,
            waived=waived,
            new_price_fen=new_price_fen,
        )

    contract = one(purchase)
    return contract if current.version == purchase.version else better(contract, one(current))


async def quote_refund(
    code: str,
    ticket_ids: Iterable[int] | None = None,
    *,
    partner_id: int | None = None,
    now: dt.datetime | None = None,
    waived: bool = False,
) -> Quote:
    """What refunding these tickets (None: the whole order) would pay back now. Reads only."""
    order = await _order(code, partner_id)
    rows = await _tickets(order)
    try:
        chosen, whole = _chosen(rows, ticket_ids)
    except RefundRefused as refused:
        version = (await policies.in_force(order.event_id)).version
        return Quote(REFUND, False, refused.reason, version, 0, 0, 0, None)
    return await _quote(order, chosen, whole, now or utcnow(), waived)


async def exchange_quote(code: str, now: dt.datetime | None = None) -> Quote:
    """What exchanging the order's valid tickets would cost now (the exchange tiers of its rules)."""
    order = await _order(code, None)
    rows = [r for r in await _tickets(order) if r["status"] == TICKET_ISSUED]
    version = await policies.get_version(rows[0]["policy_version"] if rows else None)
    terms = [
        TicketTerms(
            r["id"],
            r["price_fen"],
            r["issued_at"] or order.paid_at,
            r["status"],
            r["admitted"],
            bool(r["seat.obstructed"]),
        )
        for r in rows
    ]
    return quote(version.rules, version.version, terms, order.starts_at, now or utcnow(), kind=EXCHANGE)


async def contract(code: str) -> policies.PolicyVersion:
    """The rules the order's tickets were sold under (the buyer's contract)."""
    order = await _order(code, None)
    rows = await _tickets(order)
    return (
        await policies.get_version(rows[0]["policy_version"] if rows else None)
        if rows
        else await policies.in_force(order.event_id)
    )


def _method(order: _OrderFacts) -> str:
    if order.partner_id is not None or order.method == "partner":
        return "partner"
    if order.method in ("cash", "card", "mobile", "sandbox"):
        return order.method
    raise Conflict("The order has no payment to refund.")


def _result(row: dict, ticket_ids: list[int], code: str) -> RefundResult:
    return RefundResult(
        row["id"],
        row["number"],
        row["status"],
        row["method"],
        row["fee_fen"],
        row["refund_fen"],
        ticket_ids,
        code,
        row["breakdown"],
    )


async def _by_key(partner_id: int, key: str, code: str) -> RefundResult | None:
    row = (
        await Refund.select()
        .where((Refund.partner == partner_id) & (Refund.idempotency_key == key))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    ids = [t["ticket"] for t in await RefundTicket.select(RefundTicket.ticket).where(RefundTicket.refund == row["id"])]
    return _result(row, ids, code)


async def void_tickets(order: _OrderFacts, chosen: list[dict], now: dt.datetime, *, give_back: bool = True) -> None:
    """Revoke the tickets' codes (a ticket already revoked refuses: RefundRefused), refuse a ticket admitted
    meanwhile, log the revocations for offline gates and give the seats or quota back (`give_back` False: the
    caller gives them back itself, last in its transaction, or a refund awaiting approval keeps them until it
    is approved, so that a declined one gets its tickets back).
    Inside the caller's write transaction (a refund or an exchange)."""
    ids = [r["id"] for r in chosen]
    revoked = (
        await Ticket.update({Ticket.status: TICKET_REVOKED, Ticket.revoked_at: now})
        .where(Ticket.id.is_in(ids) & (Ticket.status == TICKET_ISSUED))
        .returning(Ticket.id)
    )
    if len(revoked) != len(ids):
        raise RefundRefused(ALREADY_REFUNDED)
    # A new statement: it sees an entry committed while the UPDATE waited for a gate's lock on the ticket.
    if await Admission.exists().where(Admission.ticket.is_in(ids)):
        raise RefundRefused(ALREADY_USED)
    await Revocation.insert(*(Revocation(ticket=t, session=order.session_id, at=now) for t in ids))
    if give_back:
        await holds.give_back_tickets([t["id"] for t in chosen])


def _movements(method: str, q: Quote, reference: str, note: str) -> list[ledger.Movement]:
    return [
        ledger.Movement(ledger.SALE, -q.price_fen, note=note),
        ledger.Movement(ledger.FEE_KEPT, q.fee_fen, note=note),
        ledger.Movement(ledger.REFUND, -q.refund_fen, method, reference, note),
    ]


async def request_refund(
    actor: Actor,
    code: str,
    ticket_ids: Iterable[int] | None = None,
    *,
    channel: str,
    proof: str = "",
    id_number: str = "",
    reference: str = "",
    partner_id: int | None = None,
    idempotency_key: str | None = None,
    cause: str = "request",
    waived: bool = False,
    now: dt.datetime | None = None,
) -> RefundResult:
    """Refund tickets of an order (None: all its valid tickets). Raises RefundRefused (409, with the reason),
    NotFound, InvalidInput. With a partner's `idempotency_key`, a retry answers the same refund."""
    now = now or utcnow()
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 100):
        raise InvalidInput("An Idempotency-Key has 1 to 100 characters.", field="Idempotency-Key")
    reference = reference.strip()[:64]
    if partner_id is not None and idempotency_key and (done := await _by_key(partner_id, idempotency_key, code)):
        return done
    try:
        return await _request(
            actor,
            code,
            ticket_ids,
            channel,
            proof,
            id_number,
            reference,
            partner_id,
            idempotency_key,
            cause,
            waived,
            now,
        )
    except Exception:
        # A concurrent copy of this partner request won (the key's unique index, or the tickets it revoked).
        if partner_id is not None and idempotency_key and (done := await _by_key(partner_id, idempotency_key, code)):
            return done
        raise


async def _request(actor, code, ticket_ids, channel, proof, id_number, reference, partner_id, key, cause, waived, now):
    # Read and quote before the write transaction (on SQLite the one writer's lock is held for the writes only):
    # what the reads saw is checked again inside it, by void_tickets' conditional UPDATE and admissions check.
    order = await _order(code, partner_id)
    rows = await _tickets(order)
    chosen, whole = _chosen(rows, ticket_ids)
    q = await _quote(order, chosen, whole, now, waived)
    if not q.allowed:
        raise RefundRefused(q.reason)
    method = _method(order)
    version = await policies.get_version(q.policy_version) if q.policy_version else None
    needs_approval = bool(version and version.rules.needs_approval(q.refund_fen)) and not waived
    status = REQUESTED if needs_approval else APPROVED
    settle = status == APPROVED and (method in IMMEDIATE_METHODS or (method in REFERENCE_METHODS and bool(reference)))
    if method == "cash" and channel == "bulk":
        settle = False  # a cancelled session's cash is paid out at the window (pay_out), not by the job
    if method in REFERENCE_METHODS and not settle and status == APPROVED and channel == "box_office":
        raise InvalidInput("Enter the reference of the card or mobile reversal.", field="reference")
    async with queued_write(Order._meta.db):
        return await _write_refund(
            actor, order, chosen, q, method, status, settle, channel, proof, id_number, reference, partner_id, key,
            cause, now,
        )  # fmt: skip


async def _write_refund(
    actor, order, chosen, q, method, status, settle, channel, proof, id_number, reference, partner_id, key, cause, now
):
    needs_approval = status == REQUESTED
    ids = [r["id"] for r in chosen]
    # Void first: the codes are revoked before any money moves; the stock goes back last (below).
    await void_tickets(order, chosen, now, give_back=False)
    number = "RF" + now.strftime("%y%m%d") + secrets.token_hex(5).upper()
    row = (
        await Refund.insert(
            Refund(
                number=number,
                order=order.id,
                status=DONE if settle else status,
                cause=cause,
                method=method,
                price_fen=q.price_fen,
                fee_fen=q.fee_fen,
                refund_fen=q.refund_fen,
                policy_version=q.policy_version,
                breakdown=q.breakdown(),
                proof=proof.strip()[:500],
                id_masked=mask_id(id_number.strip()) if id_number.strip() else "",
                channel=channel,
                partner=partner_id,
                idempotency_key=key,
                requested_by_id=actor.user_id,
                requested_by_name=actor.name,
                requested_at=now,
                approved_by_id=None,
                approved_at=now if status == APPROVED else None,
                reference=reference,
                done_at=now if settle else None,
            )
        ).returning(*Refund.all_columns())
    )[0]
    lines = {line.ticket_id: line for line in q.lines}
    await RefundTicket.insert(
        *(
            RefundTicket(
                refund=row["id"],
                ticket=t,
                price_fen=lines[t].price_fen,
                fee_fen=lines[t].fee_fen,
                refund_fen=lines[t].refund_fen,
            )
            for t in ids
        )
    )
    if settle:
        await ledger.post(
            actor,
            now,
            order.id,
            _movements(method, q, reference, number),
            channel=order.channel,
            partner_id=order.partner_id,
            refund_id=row["id"],
            drawer_id=actor.user_id,
        )
    note = notes.note("refund", number=number, tickets=len(ids), refund_fen=q.refund_fen, fee_fen=q.fee_fen)
    if not await Ticket.exists().where((Ticket.order == order.id) & (Ticket.status == TICKET_ISSUED)):
        await transition(order.id, [PAID], REFUNDED, actor, now, note)
    else:
        await add_event(order.id, PAID, actor, now, note)
    await record(
        actor,
        "refund.request",
        "order",
        order.code,
        summary=note,
        after={
            "refund": number,
            "status": row["status"],
            "tickets": ids,
            "method": method,
            "breakdown": q.breakdown(),
            "cause": cause,
        },
    )
    if not needs_approval:  # awaiting approval, the seats stay the buyer's
        # Last: the class and allocation counters every refund of the session updates stay locked only until
        # the commit, which follows at once (bench/aftersale.py: 200 concurrent refunds queued on them).
        await holds.give_back_tickets(ids)
    row["breakdown"] = q.breakdown()
    return _result(row, ids, order.code)


async def _refund_row(refund_id: int) -> dict:
    row = (
        await Refund.select(*Refund.all_columns(), Refund.order.code, Refund.order.channel)
        .where(Refund.id == refund_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("No such refund.")
    return row


async def _ticket_ids(refund_id: int) -> list[int]:
    return [
        t["ticket"]
        for t in await RefundTicket.select(RefundTicket.ticket)
        .where(RefundTicket.refund == refund_id)
        .order_by(RefundTicket.ticket)
    ]


def _quote_of(row: dict) -> Quote:
    return Quote(REFUND, True, None, row["policy_version"], row["fee_fen"], row["refund_fen"], row["price_fen"], None)


async def approve_refund(
    actor: Actor, refund_id: int, *, reference: str = "", now: dt.datetime | None = None
) -> RefundResult:
    """A supervisor approves a refund above the threshold; never the one who asked for it."""
    now = now or utcnow()
    if not role_allows(actor.role, Permission.REFUND_APPROVE):
        raise PermissionDenied("Only a supervisor approves refunds.")
    async with queued_write(Order._meta.db):
        row = await _refund_row(refund_id)
        if row["requested_by_id"] is not None and row["requested_by_id"] == actor.user_id:
            raise PermissionDenied("You asked for this refund: another supervisor approves it.")
        settle = row["method"] in IMMEDIATE_METHODS or (row["method"] in REFERENCE_METHODS and reference.strip())
        changes = {
            Refund.status: DONE if settle else APPROVED,
            Refund.approved_by_id: actor.user_id,
            Refund.approved_by_name: actor.name,
            Refund.approved_at: now,
        }
        if settle:
            changes.update({Refund.done_at: now, Refund.reference: reference.strip()[:64]})
        won = (
            await Refund.update(changes)
            .where((Refund.id == refund_id) & (Refund.status == REQUESTED))
            .returning(Refund.id)
        )
        if not won:
            raise Conflict("This refund is not awaiting approval (it is {status}).", status=row["status"])
        if settle:
            await ledger.post(
                actor,
                now,
                row["order"],
                _movements(row["method"], _quote_of(row), reference.strip()[:64], row["number"]),
                channel=row["order.channel"],
                partner_id=row["partner"],
                refund_id=refund_id,
                drawer_id=actor.user_id,
            )
        await record(
            actor,
            "refund.approve",
            "order",
            row["order.code"],
            summary=row["number"],
            after={"refund": row["number"], "settled": bool(settle)},
        )
        await holds.give_back_tickets(await _ticket_ids(refund_id))  # last, as in request_refund
    return _result({**row, "status": DONE if settle else APPROVED}, await _ticket_ids(refund_id), row["order.code"])


async def decline_refund(actor: Actor, refund_id: int, *, reason: str, now: dt.datetime | None = None) -> RefundResult:
    """A supervisor declines a refund awaiting approval, with a reason (never the one who asked for it). Its
    tickets were void since the request but their seats and quota were kept (void_tickets give_back=False), so
    they are made valid again: status issued, a `restored` entry in the numbered revocation log (offline gates
    merge it on their next sync), the order paid again if the request had made it refunded, and they leave
    the refund (which keeps its breakdown). No money had moved."""
    now = now or utcnow()
    if not role_allows(actor.role, Permission.REFUND_APPROVE):
        raise PermissionDenied("Only a supervisor approves refunds.")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the refund is declined.", field="reason")
    async with queued_write(Order._meta.db):
        row = await _refund_row(refund_id)
        if row["requested_by_id"] is not None and row["requested_by_id"] == actor.user_id:
            raise PermissionDenied("You asked for this refund: another supervisor decides it.")
        won = (
            await Refund.update(
                {
                    Refund.status: DECLINED,
                    Refund.approved_by_id: actor.user_id,
                    Refund.approved_by_name: actor.name,
                    Refund.approved_at: now,
                    Refund.decline_reason: reason[:500],
                }
            )
            .where((Refund.id == refund_id) & (Refund.status == REQUESTED))
            .returning(Refund.id)
        )
        if not won:
            raise Conflict("This refund is not awaiting approval (it is {status}).", status=row["status"])
        ids = await _ticket_ids(refund_id)
        restored = (
            await Ticket.update({Ticket.status: TICKET_ISSUED, Ticket.revoked_at: None})
            .where(Ticket.id.is_in(ids) & (Ticket.status == TICKET_REVOKED))
            .returning(Ticket.id, Ticket.session)
        )
        if len(restored) != len(ids):  # cannot happen while the refund holds them; refuse rather than guess
            raise Conflict("A ticket of this refund changed meanwhile; handle it by hand.")
        await Revocation.insert(
            *(Revocation(ticket=t["id"], session=t["session"], at=now, restored=True) for t in restored)
        )
        # The tickets leave the refund (one refund per ticket: a later refund of them must be possible); the
        # refund keeps its per-ticket breakdown and the audit entry names them.
        await RefundTicket.delete().where(RefundTicket.refund == refund_id)
        note = notes.note("declined", number=row["number"], reason=reason[:200])
        if not await transition(row["order"], [REFUNDED], PAID, actor, now, note):
            await add_event(row["order"], PAID, actor, now, note)
        await record(
            actor,
            "refund.decline",
            "order",
            row["order.code"],
            summary=note,
            before={"refund": row["number"], "status": REQUESTED},
            after={"refund": row["number"], "status": DECLINED, "reason": reason[:500], "tickets_restored": ids},
        )
    return _result({**row, "status": DECLINED}, ids, row["order.code"])


async def pay_out(actor: Actor, refund_id: int, *, reference: str = "", now: dt.datetime | None = None) -> RefundResult:
    """The seller pays an approved refund out at the window: cash from the drawer, or a card/mobile reversal
    with its reference; or a failed provider refund handled by hand (with what was done as the reference)."""
    now = now or utcnow()
    reference = reference.strip()[:64]
    async with queued_write(Order._meta.db):
        row = await _refund_row(refund_id)
        if row["method"] != "cash" and not reference:
            raise InvalidInput("Enter the reference of the reversal.", field="reference")
        won = (
            await Refund.update({Refund.status: DONE, Refund.done_at: now, Refund.reference: reference})
            .where((Refund.id == refund_id) & Refund.status.is_in([APPROVED, FAILED]))
            .returning(Refund.id)
        )
        if not won:
            raise Conflict("This refund cannot be paid out (it is {status}).", status=row["status"])
        method = "cash" if row["method"] == "cash" else row["method"]
        await ledger.post(
            actor,
            now,
            row["order"],
            _movements(method, _quote_of(row), reference, row["number"]),
            channel=row["order.channel"],
            partner_id=row["partner"],
            refund_id=refund_id,
            drawer_id=actor.user_id,
        )
        await record(
            actor,
            "refund.pay_out",
            "order",
            row["order.code"],
            summary=row["number"],
            after={"refund": row["number"], "reference": reference},
        )
    return _result({**row, "status": DONE}, await _ticket_ids(refund_id), row["order.code"])


async def _provider_reference(order_id: int) -> str:
    payment = (
        await Payment.select(Payment.reference)
        .where((Payment.order == order_id) & (Payment.status == "succeeded"))
        .order_by(Payment.id, ascending=False)
        .first()
    )
    return (payment["reference"] or "") if payment else ""


async def send_to_provider(refund_id: int) -> str:
    """Ask the provider for an approved provider refund, over HTTP and outside any write transaction, under the
    refund's number (asking again is safe: the provider answers the same refund, which is also how a refund
    whose outcome did not arrive is polled). The refund stays approved while the provider is processing it or
    could not be reached (asked again by `ask_provider_again`); an outcome in the answer is recorded at once.
    Returns the refund's status."""
    row = await _refund_row(refund_id)
    if row["status"] != APPROVED or row["method"] not in PROVIDER_METHODS:
        return row["status"]
    reference = await _provider_reference(row["order"])
    try:
        answer = await provider(row["method"]).request_refund(
            row["number"], reference, row["order.code"], row["refund_fen"]
        )
    except Exception as exc:  # unreachable or refused request: still approved, asked again later, never lost
        log.warning("refund %s: the provider could not be asked (%s); asked again later", row["number"], exc)
        return APPROVED
    if answer.status == REFUND_PROCESSING:
        return APPROVED
    return await record_provider_outcome(row["method"], answer)


async def record_provider_outcome(method: str, answer: RefundAnswer, now: dt.datetime | None = None) -> str:
    """The provider's outcome of a refund (its callback, or its answer when asked again): approved -> done with
    the ledger entries, or failed (the manual queue, with the provider's reason). A conditional UPDATE: a
    repeated or concurrent outcome is recorded once. Returns the refund's status (unknown number: NotFound)."""
    now = now or utcnow()
    row = await Refund.select(Refund.id).where((Refund.number == answer.number) & (Refund.method == method)).first()
    if row is None:
        raise NotFound("No such refund.")
    system = Actor.system(f"payment:{method}")
    succeeded = answer.status == REFUND_SUCCEEDED
    failure = "" if succeeded else (answer.failure or "the provider refused the refund")[:500]
    async with queued_write(Order._meta.db):
        row = await _refund_row(row["id"])
        reference = await _provider_reference(row["order"])
        won = (
            await Refund.update(
                {
                    Refund.status: DONE if succeeded else FAILED,
                    Refund.done_at: now if succeeded else None,
                    Refund.failure: failure,
                    Refund.reference: reference if succeeded else "",
                }
            )
            .where((Refund.id == row["id"]) & (Refund.status == APPROVED))
            .returning(Refund.id)
        )
        if not won:
            return row["status"]
        if succeeded:
            await ledger.post(
                system,
                now,
                row["order"],
                _movements(row["method"], _quote_of(row), reference, row["number"]),
                channel=row["order.channel"],
                partner_id=row["partner"],
                refund_id=row["id"],
            )
        await record(
            system,
            "refund.provider",
            "order",
            row["order.code"],
            summary=row["number"],
            after={"refund": row["number"], "status": DONE if succeeded else FAILED, "failure": failure},
        )
    return DONE if succeeded else FAILED


async def handle_refund_callback(provider_name: str, body: bytes, signature: str) -> tuple[str, str]:
    """The provider's signed notice of a refund's outcome: (refund number, its status afterwards). A forged
    signature is InvalidInput, an unknown refund NotFound; the same notice again changes nothing."""
    answer = provider(provider_name).parse_refund_callback(body, signature)
    if answer is None:
        log.warning("refund callback with a bad signature from provider %s", provider_name)
        raise InvalidInput("The refund notice's signature is not valid.")
    if answer.status == REFUND_PROCESSING:
        return answer.number, APPROVED
    return answer.number, await record_provider_outcome(provider_name, answer)


ASK_AGAIN_AFTER = dt.timedelta(seconds=30)


async def ask_provider_again(limit: int = 100, now: dt.datetime | None = None) -> int:
    """The periodic job: provider refunds still approved some time after their approval (the provider was not
    reached, or its outcome did not arrive) are asked for again under the same number. Returns how many got
    their outcome."""
    rows = (
        await Refund.select(Refund.id)
        .where(
            (Refund.status == APPROVED)
            & Refund.method.is_in(list(PROVIDER_METHODS))
            & (Refund.approved_at <= (now or utcnow()) - ASK_AGAIN_AFTER)
        )
        .order_by(Refund.approved_at)
        .limit(limit)
    )
    return sum([await send_to_provider(r["id"]) != APPROVED for r in rows])


async def customer_refund(actor: Actor, code: str, now: dt.datetime | None = None) -> RefundResult:
    """The customer refunds the whole order from the order page (their lookup grant is the identity): the
    codes are void at once, then an online payment's refund goes to the provider after the commit."""
    return await to_provider(
        await request_refund(actor, code, channel="web_shop", proof="online lookup grant", now=now)
    )


async def to_provider(refund: RefundResult) -> RefundResult:
    """After the refund's commit: an approved online payment's refund goes to the provider at once."""
    if refund.status == APPROVED and refund.method in PROVIDER_METHODS:
        status = await send_to_provider(refund.id)
        refund = RefundResult(**{**{f: getattr(refund, f) for f in refund.__slots__}, "status": status})
    return refund


async def refunds_of_order(order_id: int) -> list[dict]:
    return await Refund.select().where(Refund.order == order_id).order_by(Refund.id).output(load_json=True)


async def queue(status: str, limit: int = 200) -> list[dict]:
    """Refunds awaiting approval (requested) or manual handling (failed, approved window payouts)."""
    if status not in STATUSES:
        raise InvalidInput("No such refund status.", field="status")
    return (
        await Refund.select(*Refund.all_columns(), Refund.order.code)
        .where(Refund.status == status)
        .order_by(Refund.id)
        .limit(limit)
        .output(load_json=True)
    )
