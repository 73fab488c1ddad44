"""Partner settlement (R8.1, issue 12): agreements and statements.

An agreement (per partner; `outlet` names one of its outlets, '' for the partner itself) sets the commission:
basis points of the net money (1 bp = 0.01 %) and/or a sum per net ticket, the cycle (weekly or monthly) and
the settlement day. A statement covers a period of whole venue-local days. Its lines come from the ledger,
one per order with partner money in the period: sales (money the partner collected: payments and charged
price differences), refunds (money it paid back), tickets sold and refunded, commission (rounded half up per
line) and the amount due = sales - refunds - commission. A refund after a period is in the period in which
it happens (a line with sales 0 and negative tickets, its commission given back).

Lines are not copied into tables: they are recomputed from the immutable ledger, and the statement keeps
their SHA-256 digest, so re-running a confirmed period gives the same statement to the fen (and the
reconciliation checks it every day a period ends). draft -> confirmed (an auditor; refused if the ledger no
longer gives the draft) -> paid (with the transfer's reference); a draft can be discarded. A period that
overlaps a statement of the partner that is not discarded is refused; statement writes of one partner are
serialised by a conditional UPDATE of its agreement (PostgreSQL) and by the SQLite writer lock."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass, field

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance.ledger import venue_day
from db.finance.tables import Agreement, LedgerEntry, Statement
from db.sales.tables import Partner

CYCLES = ("weekly", "monthly")
DRAFT, CONFIRMED, PAID, DISCARDED = "draft", "confirmed", "paid", "discarded"
MAX_BP = 10_000  # 100 %
MAX_PER_TICKET_FEN = 100_000

# One grouped query gives every line: per order, the money of the period's entries and the tickets of its
# payments and refunds (correlated counts by index; the join on tickets made 2-3 times the rows).
_LINES = """
SELECT e."order" AS order_id, o.code AS code,
  SUM(CASE WHEN e.kind <> 'refund' AND e.amount_fen > 0 THEN e.amount_fen ELSE 0 END) AS sales,
  SUM(CASE WHEN e.kind = 'refund' OR e.amount_fen < 0 THEN -e.amount_fen ELSE 0 END) AS refunds,
  SUM(CASE WHEN e.kind = 'payment'
      THEN (SELECT COUNT(*) FROM ticket t WHERE t."order" = e."order") ELSE 0 END) AS sold,
  SUM(CASE WHEN e.kind = 'refund'
      THEN (SELECT COUNT(*) FROM aftersale_refund_ticket rt WHERE rt.refund = e.refund_id) ELSE 0 END) AS refunded
FROM finance_ledger e JOIN sales_order o ON o.id = e."order"
WHERE e.partner = {} AND e.at >= {} AND e.at < {} AND e.kind IN ('payment', 'refund', 'price_difference')
GROUP BY e."order", o.code
ORDER BY e."order"
"""


@dataclass(frozen=True, slots=True)
class Line:
    order_id: int
    code: str
    sales_fen: int
    refunds_fen: int
    tickets_sold: int
    tickets_refunded: int
    commission_fen: int

    @property
    def due_fen(self) -> int:
        return self.sales_fen - self.refunds_fen - self.commission_fen


@dataclass(frozen=True, slots=True)
class Computed:
    agreement: dict
    lines: list[Line] = field(default_factory=list)

    @property
    def sales_fen(self) -> int:
        return sum(line.sales_fen for line in self.lines)

    @property
    def refunds_fen(self) -> int:
        return sum(line.refunds_fen for line in self.lines)

    @property
    def commission_fen(self) -> int:
        return sum(line.commission_fen for line in self.lines)

    @property
    def due_fen(self) -> int:
        return self.sales_fen - self.refunds_fen - self.commission_fen

    @property
    def tickets(self) -> int:
        return sum(line.tickets_sold - line.tickets_refunded for line in self.lines)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        a = self.agreement
        h.update(f"{a['id']},{a['commission_bp']},{a['per_ticket_fen']}\n".encode())
        for line in self.lines:
            h.update(
                f"{line.order_id},{line.code},{line.sales_fen},{line.refunds_fen},{line.tickets_sold},"
                f"{line.tickets_refunded},{line.commission_fen}\n".encode()
            )
        return h.hexdigest()


def commission(net_fen: int, net_tickets: int, bp: int, per_ticket_fen: int) -> int:
    """A line's commission: `bp` basis points of the net money, rounded half up (symmetrically for a
    negative line), plus `per_ticket_fen` per net ticket."""
    share = (abs(net_fen) * bp + 5000) // 10000
    return (share if net_fen >= 0 else -share) + per_ticket_fen * net_tickets


def period_window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from db.finance.reconciliation import day_window

    return day_window(start)[0], day_window(end)[1]


def last_period(agreement: dict, today: dt.date) -> tuple[dt.date, dt.date]:
    """The latest complete cycle before `today`: monthly, the calendar month before the settlement day's
    month (cut at its settlement day, 1 = calendar months); weekly, the seven days before the last
    settlement weekday (1 = Monday)."""
    day = agreement["settlement_day"]
    if agreement["cycle"] == "weekly":
        back = (today.isoweekday() - day) % 7 or 7
        end = today - dt.timedelta(days=back)
        return end - dt.timedelta(days=6), end
    cut = today.replace(day=min(day, 28))
    if cut > today:
        cut = (cut.replace(day=1) - dt.timedelta(days=1)).replace(day=min(day, 28))
    end = cut - dt.timedelta(days=1)
    previous = (cut.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = previous.replace(day=min(day, calendar.monthrange(previous.year, previous.month)[1]))
    return start, end


async def agreement_for(partner_id: int, on: dt.date) -> dict:
    row = (
        await Agreement.select()
        .where((Agreement.partner == partner_id) & (Agreement.outlet == "") & (Agreement.valid_from <= on))
        .order_by(Agreement.valid_from, ascending=False)
        .order_by(Agreement.id, ascending=False)
        .first()
    )
    if row is None:
        raise Conflict("This partner has no settlement agreement in force on {day}.", day=on.isoformat())
    return row


async def compute(partner_id: int, start: dt.date, end: dt.date) -> Computed:
    """The statement's lines for a period, from the ledger (one grouped query)."""
    agreement = await agreement_for(partner_id, start)
    since, until = period_window(start, end)
    bp, per_ticket = agreement["commission_bp"], agreement["per_ticket_fen"]
    lines = []
    for r in await LedgerEntry.raw(_LINES, partner_id, since, until):
        sales, refunds, sold, back = int(r["sales"]), int(r["refunds"]), int(r["sold"]), int(r["refunded"])
        lines.append(
            Line(
                r["order_id"],
                r["code"],
                sales,
                refunds,
                sold,
                back,
                commission(sales - refunds, sold - back, bp, per_ticket),
            )
        )
    return Computed(agreement, lines)


def _check_terms(commission_bp: int, per_ticket_fen: int, cycle: str, settlement_day: int) -> None:
    if not 0 <= commission_bp <= MAX_BP:
        raise InvalidInput("The commission is a percentage from 0 to 100.", field="percent")
    if not 0 <= per_ticket_fen <= MAX_PER_TICKET_FEN:
        raise InvalidInput("The commission per ticket is from 0 to 1000 yuan.", field="per_ticket")
    if cycle not in CYCLES:
        raise InvalidInput("The cycle is weekly or monthly.", field="cycle")
    if not (1 <= settlement_day <= (7 if cycle == "weekly" else 28)):
        raise InvalidInput(
            "The settlement day is a weekday 1-7 (Monday = 1) for a weekly cycle, a day 1-28 for a monthly one.",
            field="settlement_day",
        )


async def save_agreement(
    actor: Actor,
    partner_id: int,
    *,
    commission_bp: int,
    per_ticket_fen: int,
    cycle: str,
    settlement_day: int,
    valid_from: dt.date,
    outlet: str = "",
    now: dt.datetime | None = None,
) -> int:
    """A new agreement (terms are never edited: a change is a new agreement from a later day)."""
    _check_terms(commission_bp, per_ticket_fen, cycle, settlement_day)
    outlet = outlet.strip()[:60]
    async with queued_write(Agreement._meta.db):
        if not await Partner.exists().where(Partner.id == partner_id):
            raise NotFound("No such partner.")
        if await Statement.exists().where(
            (Statement.partner == partner_id)
            & Statement.status.is_in([CONFIRMED, PAID])
            & (Statement.period_end >= valid_from)
        ):
            raise Conflict(
                "A confirmed statement covers days from {day}: start the agreement later.", day=valid_from.isoformat()
            )
        agreement_id = (
            await Agreement.insert(
                Agreement(
                    partner=partner_id,
                    outlet=outlet,
                    commission_bp=commission_bp,
                    per_ticket_fen=per_ticket_fen,
                    cycle=cycle,
                    settlement_day=settlement_day,
                    valid_from=valid_from,
                    created_at=now or utcnow(),
                    created_by=actor.name,
                )
            ).returning(Agreement.id)
        )[0]["id"]
        await record(
            actor,
            "agreement.create",
            "partner",
            partner_id,
            after={
                "agreement": agreement_id,
                "commission_bp": commission_bp,
                "per_ticket_fen": per_ticket_fen,
                "cycle": cycle,
                "settlement_day": settlement_day,
                "valid_from": valid_from.isoformat(),
                "outlet": outlet,
            },
        )
    return agreement_id


async def _serialise(partner_id: int) -> None:
    """Take the partner's statement turn: on PostgreSQL the UPDATE holds its agreements' rows until commit."""
    await Agreement.update({Agreement.turn: Agreement.turn + 1}).where(Agreement.partner == partner_id)


async def create_statement(
    actor: Actor, partner_id: int, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> int:
    """A draft statement for a finished period. Refused when it overlaps another statement of the partner
    that is not discarded (a confirmed or paid one above all)."""
    now = now or utcnow()
    if end < start:
        raise InvalidInput("The period ends before it starts.", field="end")
    if end >= venue_day(now):
        raise InvalidInput(
            "A statement covers finished days only: end the period yesterday at the latest.", field="end"
        )
    if (end - start).days > 92:
        raise InvalidInput("A statement covers at most 93 days.", field="start")
    computed = await compute(partner_id, start, end)
    async with queued_write(Statement._meta.db):
        await _serialise(partner_id)
        overlap = (
            await Statement.select(Statement.id, Statement.status, Statement.period_start, Statement.period_end)
            .where(
                (Statement.partner == partner_id)
                & (Statement.status != DISCARDED)
                & (Statement.period_start <= end)
                & (Statement.period_end >= start)
            )
            .first()
        )
        if overlap:
            raise Conflict(
                "The period overlaps statement {id} ({start} to {end}, {status}).",
                field="start",
                id=overlap["id"],
                start=overlap["period_start"].isoformat(),
                end=overlap["period_end"].isoformat(),
                status=overlap["status"],
            )
        statement_id = (
            await Statement.insert(
                Statement(
                    partner=partner_id,
                    agreement=computed.agreement["id"],
                    period_start=start,
                    period_end=end,
                    status=DRAFT,
                    orders=len(computed.lines),
                    tickets=computed.tickets,
                    sales_fen=computed.sales_fen,
                    refunds_fen=computed.refunds_fen,
                    commission_fen=computed.commission_fen,
                    due_fen=computed.due_fen,
                    digest=computed.digest,
                    created_at=now,
                    created_by=actor.name,
                )
            ).returning(Statement.id)
        )[0]["id"]
        await record(
            actor,
            "statement.create",
            "statement",
            statement_id,
            after={
                "partner": partner_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "due_fen": computed.due_fen,
            },
        )
    return statement_id


async def get_statement(statement_id: int, partner_id: int | None = None) -> dict:
    query = Statement.select(*Statement.all_columns(), Statement.partner.name).where(Statement.id == statement_id)
    row = await query.first()
    if row is None or (partner_id is not None and row["partner"] != partner_id):
        raise NotFound("No such statement.")
    return row


async def verify(statement_id: int) -> tuple[dict, Computed, bool]:
    """Re-run a statement's period: (statement, lines now, the same to the fen?)."""
    row = await get_statement(statement_id)
    again = await compute(row["partner"], row["period_start"], row["period_end"])
    same = again.digest == row["digest"] and again.due_fen == row["due_fen"] and again.sales_fen == row["sales_fen"]
    return row, again, same


async def _move(actor: Actor, statement_id: int, before: str, after: str, values: dict, action: str) -> None:
    row = await get_statement(statement_id)
    async with queued_write(Statement._meta.db):
        await _serialise(row["partner"])
        if after == CONFIRMED:
            clash = await Statement.exists().where(
                (Statement.partner == row["partner"])
                & (Statement.id != statement_id)
                & Statement.status.is_in([CONFIRMED, PAID])
                & (Statement.period_start <= row["period_end"])
                & (Statement.period_end >= row["period_start"])
            )
            if clash:
                raise Conflict("The period overlaps a confirmed statement.")
        won = (
            await Statement.update({Statement.status: after, **values})
            .where((Statement.id == statement_id) & (Statement.status == before))
            .returning(Statement.id)
        )
        if not won:
            raise Conflict("This statement is {status}; it cannot become {wanted}.", status=row["status"], wanted=after)
        await record(actor, action, "statement", statement_id, before={"status": before}, after={"status": after})


async def confirm(actor: Actor, statement_id: int, now: dt.datetime | None = None) -> None:
    """The auditor confirms a draft, after checking that the ledger still gives it."""
    _, _, same = await verify(statement_id)
    if not same:
        raise Conflict("The ledger changed since this draft was made: discard it and make it again.")
    now = now or utcnow()
    await _move(
        actor,
        statement_id,
        DRAFT,
        CONFIRMED,
        {Statement.confirmed_at: now, Statement.confirmed_by: actor.name},
        "statement.confirm",
    )


async def mark_paid(actor: Actor, statement_id: int, reference: str, now: dt.datetime | None = None) -> None:
    reference = reference.strip()
    if not 4 <= len(reference) <= 64:
        raise InvalidInput("Enter the bank transfer's reference (4 to 64 characters).", field="reference")
    now = now or utcnow()
    await _move(
        actor,
        statement_id,
        CONFIRMED,
        PAID,
        {Statement.paid_at: now, Statement.paid_by: actor.name, Statement.paid_reference: reference},
        "statement.paid",
    )


async def discard(actor: Actor, statement_id: int) -> None:
    await _move(actor, statement_id, DRAFT, DISCARDED, {}, "statement.discard")


async def statements(partner_id: int | None = None, visible_to_partner: bool = False, limit: int = 200) -> list[dict]:
    query = Statement.select(*Statement.all_columns(), Statement.partner.name).order_by(Statement.id, ascending=False)
    condition = Statement.id > 0
    if partner_id is not None:
        condition &= Statement.partner == partner_id
    if visible_to_partner:
        condition &= Statement.status.is_in([CONFIRMED, PAID])
    return await query.where(condition).limit(limit)


async def agreements() -> list[dict]:
    return await Agreement.select(*Agreement.all_columns(), Agreement.partner.name).order_by(
        Agreement.id, ascending=False
    )


async def partners() -> list[dict]:
    return await Partner.select(Partner.id, Partner.name).order_by(Partner.name)
