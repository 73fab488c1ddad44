"""Session changes (issue 11; R6.1, R9.3): each operation is one write transaction with its audit record.

- `change_session`: a permitted role moves a sold session's time or venue, once, with a reason; the affected
  orders are listed (one ChangeOrder each) and the job notifies them with the keep / exchange / free refund
  choice until the deadline.
- `propose` (cancel or postpone) stores the dry run's figures: orders, tickets and money by payment method and
  channel. `approve` is a second person's (another supervisor or an auditor, never the proposer): it applies
  the session's new state and lists the affected orders for the job (db/sessionchange/job.py).
- `choose`: the buyer's answer from the signed link in the e-mail (keep, exchange, refund); a refund is the
  ONE quote (rules.quote) with the organiser's waiver, cause `event_change` or `cancelled`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from db.audit.record import record
from db.catalog.operations import refuse_overlap
from db.catalog.tables import EventSession, Gate, Seat, SessionGate, SessionSeat, Venue
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import secret
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.text import one_line
from db.core.transaction import queued_write
from db.sales.aftersale.refunds import RefundResult, request_refund, to_provider
from db.sales.tables import Order, OrderItem, Ticket
from db.sessionchange.tables import ChangeOrder, SessionChange
from db.staff.permissions import Permission, role_allows

CHANGE = "change"
CANCEL = "cancel"
POSTPONE = "postpone"
KINDS = (CHANGE, CANCEL, POSTPONE)
PROPOSED = "proposed"
RUNNING = "running"
DONE = "done"
REJECTED = "rejected"
PENDING = "pending"
FAILED = "failed"
KEEP = "keep"
EXCHANGE = "exchange"
REFUND = "refund"
CHOICES = (KEEP, EXCHANGE, REFUND)
MAX_REASON = 500
MAX_DEADLINE = dt.timedelta(days=90)


def _db():
    return SessionChange._meta.db


def _reason(reason: str) -> str:
    reason = one_line(reason or "", field="reason").strip()
    if not reason:
        raise InvalidInput("Give the reason; the buyers and the audit log will read it.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput("The reason has at most {n} characters.", field="reason", n=MAX_REASON)
    return reason


async def _session(session_id: int) -> dict:
    row = (
        await EventSession.select(
            EventSession.id,
            EventSession.status,
            EventSession.starts_at,
            EventSession.ends_at,
            EventSession.venue,
            EventSession.seated,
            EventSession.event.name,
        )
        .where(EventSession.id == session_id)
        .first()
    )
    if row is None:
        raise NotFound("No such session.")
    return row


def _deadline(choice_until: dt.datetime | None, starts_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The buyers' deadline to choose: given, else the (new) start; never in the past or beyond 90 days."""
    until = choice_until or starts_at
    if until.tzinfo is None:
        raise InvalidInput("Times need a time zone.", field="choice_until")
    if until <= now or until > now + MAX_DEADLINE:
        raise InvalidInput("The deadline to choose must be in the next 90 days.", field="choice_until")
    return until


async def _list_orders(change_id: int, session_id: int) -> int:
    """One ChangeOrder per paid order of the session holding a valid ticket (one statement; the unique key
    (change, order) keeps each order once)."""
    await ChangeOrder.raw(
        'INSERT INTO session_change_order (change, "order", status, attempts, refund_fen, failure, choice, '
        "mail_status) SELECT {}, o.id, 'pending', 0, 0, '', '', '' FROM sales_order o "
        "WHERE o.session = {} AND o.status = 'paid' "
        "AND EXISTS (SELECT 1 FROM ticket t WHERE t.\"order\" = o.id AND t.status = 'issued')",
        change_id,
        session_id,
    ).run()
    return await ChangeOrder.count().where(ChangeOrder.change == change_id)


async def figures(session_id: int) -> dict:
    """The dry run: affected orders, valid tickets and their money, by payment method and channel."""
    rows = await Order.raw(
        "SELECT COALESCE(p.method, '') AS method, o.channel AS channel, COUNT(DISTINCT o.id) AS orders, "
        "COUNT(t.id) AS tickets, COALESCE(SUM(t.price_fen), 0) AS amount_fen FROM sales_order o "
        "JOIN ticket t ON t.\"order\" = o.id AND t.status = 'issued' "
        "LEFT JOIN sales_payment p ON p.id = (SELECT MAX(p2.id) FROM sales_payment p2 "
        "WHERE p2.\"order\" = o.id AND p2.status = 'succeeded') "
        "WHERE o.session = {} AND o.status = 'paid' GROUP BY COALESCE(p.method, ''), o.channel "
        "ORDER BY 1, 2",
        session_id,
    ).run()
    lines = [{k: (int(v) if k in ("orders", "tickets", "amount_fen") else v) for k, v in r.items()} for r in rows]
    return {
        "lines": lines,
        "orders": sum(r["orders"] for r in lines),
        "tickets": sum(r["tickets"] for r in lines),
        "amount_fen": sum(r["amount_fen"] for r in lines),
    }


def _require(actor: Actor, permission: Permission, message: str) -> None:
    if actor.role != "system" and not role_allows(actor.role, permission):
        raise PermissionDenied(message)


async def _move_venue(session: dict, venue_id: int) -> None:
    """Move a session to another venue (hall): its seats to the seats of the same section, row and number there
    (every sold, held or priced seat must exist), its gates to the new venue's gates."""
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound("No such venue.")
    sid = session["id"]
    if session["seated"]:
        old = await SessionSeat.select(
            SessionSeat.id,
            SessionSeat.seat,
            SessionSeat.seat.section,
            SessionSeat.seat.row_label,
            SessionSeat.seat.number,
        ).where(SessionSeat.session == sid)
        there = {
            (s["section"], s["row_label"], s["number"]): s["id"]
            for s in await Seat.select(Seat.id, Seat.section, Seat.row_label, Seat.number).where(Seat.venue == venue_id)
        }
        mapping = {}
        missing = 0
        for r in old:
            new = there.get((r["seat.section"], r["seat.row_label"], r["seat.number"]))
            if new is None:
                missing += 1
            else:
                mapping[r["seat"]] = new
        if missing:
            raise Conflict(
                "The new venue lacks {n} of this session's seats (same section, row and number); choose a venue "
                "with the same seat map.",
                field="venue_id",
                n=missing,
            )
        for old_seat, new_seat in mapping.items():
            await SessionSeat.update({SessionSeat.seat: new_seat}).where(
                (SessionSeat.session == sid) & (SessionSeat.seat == old_seat)
            )
            await Ticket.update({Ticket.seat: new_seat}).where((Ticket.session == sid) & (Ticket.seat == old_seat))
            await OrderItem.update({OrderItem.seat: new_seat}).where(
                (OrderItem.seat == old_seat) & OrderItem.order.is_in(Order.select(Order.id).where(Order.session == sid))
            )
    gates = [g["id"] for g in await Gate.select(Gate.id).where(Gate.venue == venue_id)]
    await SessionGate.delete().where(SessionGate.session == sid)
    if gates:
        await SessionGate.insert(*(SessionGate(session=sid, gate=g, sections="") for g in gates))
    await EventSession.update({EventSession.venue: venue_id}).where(EventSession.id == sid)


async def _move_time(session: dict, starts_at: dt.datetime) -> None:
    if starts_at.tzinfo is None:
        raise InvalidInput("Times need a time zone.", field="starts_at")
    shift = starts_at - session["starts_at"]
    await EventSession.update(
        {
            EventSession.starts_at: EventSession.starts_at + shift,
            EventSession.ends_at: EventSession.ends_at + shift,
            EventSession.admission_opens_at: EventSession.admission_opens_at + shift,
            EventSession.admission_closes_at: EventSession.admission_closes_at + shift,
        }
    ).where(EventSession.id == session["id"])


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    id: int
    kind: str
    status: str
    orders: int


async def change_session(
    actor: Actor,
    session_id: int,
    *,
    reason: str,
    starts_at: dt.datetime | None = None,
    venue_id: int | None = None,
    choice_until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ChangeSummary:
    """Move a sold session's time and/or venue (R6.1): once per session, with a reason; every affected order
    is then notified by the job with the keep / exchange / free refund choice until `choice_until`."""
    _require(actor, Permission.SESSION_CHANGE, "Changing a sold session needs the session-change permission.")
    now = now or utcnow()
    reason = _reason(reason)
    async with queued_write(_db()):
        session = await _session(session_id)
        if session["status"] != "on_sale":
            raise Conflict("This session is {status}: it cannot be changed.", status=session["status"])
        if await SessionChange.exists().where((SessionChange.session == session_id) & (SessionChange.kind == CHANGE)):
            raise Conflict("This session was already changed once; cancel or postpone it instead.")
        venue_id = None if venue_id == session["venue"] else venue_id
        if starts_at == session["starts_at"]:
            starts_at = None
        if starts_at is None and venue_id is None:
            raise InvalidInput("Give a new start time or another venue.", field="starts_at")
        if starts_at is not None and starts_at <= now:
            raise InvalidInput("The new start must be in the future.", field="starts_at")
        new_start = starts_at or session["starts_at"]
        until = _deadline(choice_until, new_start, now)
        ends = session["ends_at"] + (new_start - session["starts_at"])
        await refuse_overlap(venue_id or session["venue"], new_start, ends, other_than=session_id)
        if starts_at is not None:
            await _move_time(session, starts_at)
        if venue_id is not None:
            await _move_venue(session, venue_id)
        change_id = await _insert(actor, session, CHANGE, RUNNING, reason, now, starts_at, venue_id, until, {})
        orders = await _list_orders(change_id, session_id)
        await record(
            actor,
            "session.change",
            "session",
            session_id,
            summary=reason,
            before={"starts_at": session["starts_at"].isoformat(), "venue": session["venue"]},
            after={
                "change": change_id,
                "starts_at": new_start.isoformat(),
                "venue": venue_id or session["venue"],
                "choice_until": until.isoformat(),
                "orders": orders,
            },
        )
    return ChangeSummary(change_id, CHANGE, RUNNING, orders)


async def _insert(actor, session, kind, status, reason, now, starts_at, venue_id, until, figures_) -> int:
    return (
        await SessionChange.insert(
            SessionChange(
                session=session["id"],
                kind=kind,
                status=status,
                reason=reason,
                old_starts_at=session["starts_at"],
                new_starts_at=starts_at,
                old_venue=session["venue"],
                new_venue=venue_id,
                choice_until=until,
                figures=figures_,
                requested_by_id=actor.user_id,
                requested_by_name=actor.name,
                requested_at=now,
                approved_by_id=actor.user_id if status == RUNNING else None,
                approved_by_name=actor.name if status == RUNNING else "",
                approved_at=now if status == RUNNING else None,
            )
        ).returning(SessionChange.id)
    )[0]["id"]


async def propose(
    actor: Actor,
    session_id: int,
    kind: str,
    *,
    reason: str,
    starts_at: dt.datetime | None = None,
    choice_until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> int:
    """A supervisor proposes cancelling or postponing a whole session: the dry run's figures are stored with
    it; nothing else changes until a second person approves."""
    _require(actor, Permission.SESSION_BULK, "Cancelling or postponing a session needs the supervisor.")
    if kind not in (CANCEL, POSTPONE):
        raise InvalidInput("Choose cancellation or postponement.", field="kind")
    now = now or utcnow()
    reason = _reason(reason)
    async with queued_write(_db()):
        session = await _session(session_id)
        if session["status"] == "cancelled":
            raise Conflict("This session is already cancelled.")
        if await SessionChange.exists().where(
            (SessionChange.session == session_id)
            & SessionChange.kind.is_in([CANCEL, POSTPONE])
            & SessionChange.status.is_in([PROPOSED, RUNNING])
        ):
            raise Conflict("A cancellation or postponement of this session is already under way.")
        until = None
        if kind == POSTPONE:
            if starts_at is None:
                raise InvalidInput("Give the new start time of the postponed session.", field="starts_at")
            if starts_at.tzinfo is None or starts_at <= session["starts_at"]:
                raise InvalidInput("A postponed session starts later than it did.", field="starts_at")
            until = _deadline(choice_until, starts_at, now)
        change_id = await _insert(
            actor, session, kind, PROPOSED, reason, now, starts_at, None, until, await figures(session_id)
        )
        await record(
            actor, f"session.{kind}.propose", "session", session_id, summary=reason, after={"change": change_id}
        )
    return change_id


async def approve(actor: Actor, change_id: int, *, now: dt.datetime | None = None) -> ChangeSummary:
    """The second person approves (another supervisor or an auditor, never the proposer): the session is
    cancelled (off sale) or moved, its affected orders listed; the background job takes it from there."""
    _require(actor, Permission.SESSION_BULK_APPROVE, "Approving needs another supervisor or an auditor.")
    now = now or utcnow()
    async with queued_write(_db()):
        change = await get_change(change_id)
        if change["requested_by_id"] is not None and change["requested_by_id"] == actor.user_id:
            raise PermissionDenied("You proposed this: another supervisor or an auditor approves it.")
        won = (
            await SessionChange.update(
                {
                    SessionChange.status: RUNNING,
                    SessionChange.approved_by_id: actor.user_id,
                    SessionChange.approved_by_name: actor.name,
                    SessionChange.approved_at: now,
                }
            )
            .where((SessionChange.id == change_id) & (SessionChange.status == PROPOSED))
            .returning(SessionChange.id)
        )
        if not won:
            raise Conflict("This is not awaiting approval (it is {status}).", status=change["status"])
        session = await _session(change["session"])
        if change["kind"] == CANCEL:
            await EventSession.update({EventSession.status: "cancelled"}).where(EventSession.id == session["id"])
        else:
            if change["new_starts_at"] <= now:
                raise Conflict("The new start time has passed; propose the postponement again.")
            ends = session["ends_at"] + (change["new_starts_at"] - session["starts_at"])
            await refuse_overlap(session["venue"], change["new_starts_at"], ends, other_than=session["id"])
            await _move_time(session, change["new_starts_at"])
        orders = await _list_orders(change_id, session["id"])
        await record(
            actor,
            f"session.{change['kind']}.approve",
            "session",
            session["id"],
            summary=change["reason"],
            after={"change": change_id, "orders": orders, "proposed_by": change["requested_by_name"]},
        )
    return ChangeSummary(change_id, change["kind"], RUNNING, orders)


async def reject(actor: Actor, change_id: int, *, now: dt.datetime | None = None) -> None:
    _require(actor, Permission.SESSION_BULK_APPROVE, "Approving needs another supervisor or an auditor.")
    now = now or utcnow()
    async with queued_write(_db()):
        change = await get_change(change_id)
        won = (
            await SessionChange.update(
                {
                    SessionChange.status: REJECTED,
                    SessionChange.finished_at: now,
                    SessionChange.approved_by_name: actor.name,
                }
            )
            .where((SessionChange.id == change_id) & (SessionChange.status == PROPOSED))
            .returning(SessionChange.id)
        )
        if not won:
            raise Conflict("This is not awaiting approval (it is {status}).", status=change["status"])
        await record(
            actor, f"session.{change['kind']}.reject", "session", change["session"], after={"change": change_id}
        )


async def retry_failed(actor: Actor, change_id: int) -> int:
    """Put the failed orders of a finished job back in line (the job runs again); returns how many."""
    _require(actor, Permission.SESSION_BULK, "Cancelling or postponing a session needs the supervisor.")
    async with queued_write(_db()):
        change = await get_change(change_id)
        again = (
            await ChangeOrder.update({ChangeOrder.status: PENDING, ChangeOrder.failure: ""})
            .where((ChangeOrder.change == change_id) & (ChangeOrder.status == FAILED))
            .returning(ChangeOrder.id)
        )
        if again:
            await SessionChange.update(
                {SessionChange.status: RUNNING, SessionChange.finished_at: None, SessionChange.lease_until: None}
            ).where(SessionChange.id == change_id)
        await record(
            actor, "session.bulk.retry", "session", change["session"], after={"change": change_id, "orders": len(again)}
        )
    return len(again)


async def get_change(change_id: int) -> dict:
    row = (
        await SessionChange.select(
            *SessionChange.all_columns(),
            SessionChange.session.event.name,
            SessionChange.session.venue.timezone,
            SessionChange.old_venue.name,
            SessionChange.new_venue.name,
        )
        .where(SessionChange.id == change_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("No such session change.")
    return row


async def progress(change_id: int) -> dict:
    """How far the job is: orders in all, done, failed, pending, notified; and the change itself."""
    change = await get_change(change_id)
    counts = {PENDING: 0, DONE: 0, FAILED: 0}
    for row in await ChangeOrder.raw(
        "SELECT status, COUNT(*) AS n FROM session_change_order WHERE change = {} GROUP BY status", change_id
    ).run():
        counts[row["status"]] = int(row["n"])
    notified = await ChangeOrder.count().where(
        (ChangeOrder.change == change_id) & ChangeOrder.notified_at.is_not_null()
    )
    total = sum(counts.values())
    finished = counts[DONE] + counts[FAILED]
    return {
        "change": change,
        "total": total,
        "done": counts[DONE],
        "failed": counts[FAILED],
        "pending": counts[PENDING],
        "notified": notified,
        "percent": 100 if total == 0 else finished * 100 // total,
    }


async def report(change_id: int, status: str | None = None, limit: int | None = None) -> list[dict]:
    """Each affected order: its code, status, refund, failure, notification and the buyer's choice."""
    query = (
        ChangeOrder.select(
            ChangeOrder.id,
            ChangeOrder.status,
            ChangeOrder.refund_id,
            ChangeOrder.refund_fen,
            ChangeOrder.failure,
            ChangeOrder.attempts,
            ChangeOrder.done_at,
            ChangeOrder.notified_at,
            ChangeOrder.mail_status,
            ChangeOrder.choice,
            ChangeOrder.order.code,
            ChangeOrder.order.channel,
        )
        .where(ChangeOrder.change == change_id)
        .order_by(ChangeOrder.id)
    )
    if status:
        query = query.where(ChangeOrder.status == status)
    if limit:
        query = query.limit(limit)
    return await query


async def changes(limit: int = 100) -> list[dict]:
    return (
        await SessionChange.select(
            *SessionChange.all_columns(), SessionChange.session.event.name, SessionChange.session.venue.timezone
        )
        .order_by(SessionChange.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )


async def notices(session_id: int) -> list[dict]:
    """What staff who sell or scan the session must know: its changes, cancellation or postponement."""
    return (
        await SessionChange.select(
            SessionChange.id,
            SessionChange.kind,
            SessionChange.status,
            SessionChange.reason,
            SessionChange.old_starts_at,
            SessionChange.new_starts_at,
            SessionChange.old_venue.name,
            SessionChange.new_venue.name,
            SessionChange.old_venue.timezone,  # each time in its venue's zone
            SessionChange.new_venue.timezone,
            SessionChange.choice_until,
            SessionChange.approved_at,
        )
        .where((SessionChange.session == session_id) & SessionChange.status.is_in([RUNNING, DONE]))
        .order_by(SessionChange.id)
    )


async def changes_of_order(order_id: int) -> list[dict]:
    """The session changes an order was part of, with the buyer's answer (the order page's history)."""
    return (
        await ChangeOrder.select(
            ChangeOrder.id,
            ChangeOrder.status,
            ChangeOrder.choice,
            ChangeOrder.chosen_at,
            ChangeOrder.notified_at,
            ChangeOrder.change.kind,
            ChangeOrder.change.reason,
            ChangeOrder.change.old_starts_at,
            ChangeOrder.change.new_starts_at,
            ChangeOrder.change.old_venue.name,
            ChangeOrder.change.new_venue.name,
            ChangeOrder.change.choice_until,
            ChangeOrder.change.approved_at,
        )
        .where(ChangeOrder.order == order_id)
        .order_by(ChangeOrder.id)
    )


# The buyer's signed link: /shop/changes/<ChangeOrder id>-<signature>; the order code never in the URL.


@cache
def _link_key() -> bytes:
    return secret("SESSION_CHANGE_LINK_SECRET", "session-change-link.key").encode()


def _signature(item_id: int) -> str:
    key = _link_key()
    return hmac.new(key, str(item_id).encode(), hashlib.sha256).hexdigest()[:24]


def token(item_id: int) -> str:
    return f"{item_id}-{_signature(item_id)}"


def item_of(token_text: str) -> int:
    number, _, signature = token_text.partition("-")
    if not number.isdigit() or len(number) > 12 or not hmac.compare_digest(_signature(int(number)), signature):
        raise NotFound("This link is not valid. Look your order up with its code instead.")
    return int(number)


async def offer(item_id: int) -> dict:
    """What the buyer's link shows: the change, the order code, the deadline and the answer so far."""
    row = (
        await ChangeOrder.select(
            ChangeOrder.id,
            ChangeOrder.status,
            ChangeOrder.choice,
            ChangeOrder.chosen_at,
            ChangeOrder.order,
            ChangeOrder.order.code,
            ChangeOrder.order.status,
            ChangeOrder.change.id,
            ChangeOrder.change.kind,
            ChangeOrder.change.reason,
            ChangeOrder.change.old_starts_at,
            ChangeOrder.change.new_starts_at,
            ChangeOrder.change.old_venue.name,
            ChangeOrder.change.new_venue.name,
            ChangeOrder.change.old_venue.timezone,  # each time in its venue's zone
            ChangeOrder.change.new_venue.timezone,
            ChangeOrder.change.choice_until,
            ChangeOrder.change.session.event.name,
        )
        .where(ChangeOrder.id == item_id)
        .first()
    )
    if row is None:
        raise NotFound("This link is not valid. Look your order up with its code instead.")
    return row


async def exchange_waived(order_code: str, now: dt.datetime | None = None) -> bool:
    """The buyer chose to exchange from a change's or postponement's link and its deadline has not passed: that
    exchange is fee-free (the organiser's waiver, as the change's free refund)."""
    now = now or utcnow()
    rows = await ChangeOrder.select(ChangeOrder.change.choice_until).where(
        (ChangeOrder.order.code == order_code.strip().upper())
        & (ChangeOrder.choice == EXCHANGE)
        & ChangeOrder.change.kind.is_in([CHANGE, POSTPONE])
    )
    return any(r["change.choice_until"] is None or now <= r["change.choice_until"] for r in rows)


async def choose(actor: Actor, item_id: int, choice: str, *, now: dt.datetime | None = None) -> RefundResult | None:
    """The buyer's answer to a change or postponement until the deadline: keep, exchange (then the order
    page's exchange), or a free refund of every valid ticket (the one quote, waived, cause event_change)."""
    if choice not in CHOICES:
        raise InvalidInput("Choose to keep, exchange or refund the tickets.", field="choice")
    now = now or utcnow()
    item = await offer(item_id)
    if item["change.kind"] not in (CHANGE, POSTPONE):
        raise Conflict("This session was cancelled: your tickets are refunded without any choice to make.")
    if item["change.choice_until"] and now > item["change.choice_until"]:
        raise Conflict("The deadline to choose has passed; the rules of your tickets apply again.")
    if item["choice"] == REFUND:
        raise Conflict("You already took the refund of this order.")
    refund = None
    async with queued_write(_db()):
        await ChangeOrder.update({ChangeOrder.choice: choice, ChangeOrder.chosen_at: now}).where(
            ChangeOrder.id == item_id
        )
        if choice == REFUND:
            refund = await request_refund(
                actor,
                item["order.code"],
                None,
                channel="web_shop",
                proof="session change link",
                cause="event_change",
                waived=True,
                now=now,
            )
            await ChangeOrder.update(
                {ChangeOrder.refund_id: refund.id, ChangeOrder.refund_fen: refund.refund_fen}
            ).where(ChangeOrder.id == item_id)
        await record(
            actor,
            "session.change.choice",
            "order",
            item["order.code"],
            after={"change": item["change.id"], "choice": choice, "refund": refund.number if refund else None},
        )
    return await to_provider(refund) if refund is not None else None
