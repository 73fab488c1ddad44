"""Partner settlement (R8.1, issue 12): agreements and statements.

An agreement (per partner and outlet: `outlet` names one of the partner's outlets, '' the partner itself) sets
the commission: basis points of the net money (1 bp = 0.01 %) and/or a sum per net ticket, the cycle (weekly
or monthly) and the settlement day. An order records the outlet that sold it (sales_order.outlet); an outlet's
statement covers the partner's orders of that outlet, the partner's own statement the orders of every outlet
without an agreement of its own in force at the period's start. A statement covers a period of whole
venue-local days. Its lines come from the ledger, one per order with partner money in the period: sales
(money the partner collected: payments and charged price differences), refunds (money it paid back), tickets
sold and refunded, commission (rounded half up per line) and the amount due = sales - refunds - commission. A
refund after a period is in the period in which it happens (a line with sales 0 and negative tickets, its
commission given back).

The lines are written by one INSERT ... SELECT that groups the period's ledger entries per order (no line
passes through Python), the totals by one aggregate over them, and the digest (SHA-256 of the lines' text,
which the database concatenates). A re-run (`verify`) joins the ledger's lines again with the stored ones in
SQL, so re-running a confirmed period proves the same statement to the fen (the reconciliation checks it
every day a period ends). draft -> confirmed (an auditor; refused if the ledger no longer gives the draft)
-> paid (with the transfer's reference); a draft can be discarded. A period that overlaps a statement of the
same partner and outlet that is not discarded is refused; statement writes of one partner are serialised by
a conditional UPDATE of its agreements (PostgreSQL) and by the SQLite writer lock."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import is_postgres
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance.ledger import venue_day
from db.finance.tables import Agreement, Statement, StatementLine
from db.sales.tables import Partner

CYCLES = ("weekly", "monthly")
DRAFT, CONFIRMED, PAID, DISCARDED = "draft", "confirmed", "paid", "discarded"
MAX_BP = 10_000  # 100 %
MAX_PER_TICKET_FEN = 100_000
LINE_COLUMNS = ("sales_fen", "refunds_fen", "tickets_sold", "tickets_refunded", "commission_fen", "due_fen")

# The lines of a period, one per order: the period's ledger entries of the partner grouped by order alone (a hash
# aggregate; grouping by order and code sorted every entry, on disk at 200,000 orders) with the tickets of its
# payments and refunds (correlated counts by index, inside the sums so that each runs once per entry; the join
# on tickets made 2-3 times the rows), then the order's code and scope by its key, the commission by the rule
# of `commission` (bp and per_ticket are the agreement's integers, written into the text). {scope} narrows the
# orders to the statement's outlet. Placeholders: partner, since, until, then the scope's.
_LINES = """
SELECT g.order_id, g.code, g.sales, g.refunds, g.sold, g.refunded, g.commission,
  g.sales - g.refunds - g.commission AS due
FROM (SELECT m.*, o.code,
    CASE WHEN m.sales >= m.refunds THEN ((m.sales - m.refunds) * {bp} + 5000) / 10000
         ELSE -(((m.refunds - m.sales) * {bp} + 5000) / 10000) END + {per_ticket} * (m.sold - m.refunded) AS commission
  FROM (SELECT e."order" AS order_id,
      SUM(CASE WHEN e.kind <> 'refund' AND e.amount_fen > 0 THEN e.amount_fen ELSE 0 END) AS sales,
      SUM(CASE WHEN e.kind = 'refund' OR e.amount_fen < 0 THEN -e.amount_fen ELSE 0 END) AS refunds,
      SUM(CASE WHEN e.kind = 'payment'
          THEN (SELECT COUNT(*) FROM ticket t WHERE t."order" = e."order") ELSE 0 END) AS sold,
      SUM(CASE WHEN e.kind = 'refund'
          THEN (SELECT COUNT(*) FROM aftersale_refund_ticket rt WHERE rt.refund = e.refund_id) ELSE 0 END) AS refunded
    FROM finance_ledger e
    WHERE e.partner = {} AND e.at >= {} AND e.at < {} AND e.kind IN ('payment', 'refund', 'price_difference')
    GROUP BY e."order") m
  JOIN sales_order o ON o.id = m.order_id
  WHERE {scope}) g
"""
_OWN_SCOPE = (
    "o.outlet NOT IN (SELECT a.outlet FROM finance_agreement a WHERE a.partner = {} AND a.outlet <> '' "
    "AND a.valid_from <= {})"
)
_INSERT = (
    'INSERT INTO finance_statement_line (statement, "order", code, sales_fen, refunds_fen, tickets_sold, '
    "tickets_refunded, commission_fen, due_fen) "
    "SELECT CAST({} AS INTEGER), l.order_id, l.code, l.sales, l.refunds, l.sold, l.refunded, l.commission, l.due "
    "FROM (%s) l"
)
_TOTALS = (
    "SELECT COUNT(*) AS orders, COALESCE(SUM(tickets_sold - tickets_refunded), 0) AS tickets, "
    "COALESCE(SUM(sales_fen), 0) AS sales_fen, COALESCE(SUM(refunds_fen), 0) AS refunds_fen, "
    "COALESCE(SUM(commission_fen), 0) AS commission_fen, COALESCE(SUM(due_fen), 0) AS due_fen "
    "FROM finance_statement_line WHERE statement = {}"
)
# A line's text in the digest: order id, code, sales, refunds, tickets sold and refunded, commission.
_LINE_TEXT = (
    "CAST(\"order\" AS TEXT) || ',' || code || ',' || CAST(sales_fen AS TEXT) || ',' || CAST(refunds_fen AS TEXT) "
    "|| ',' || CAST(tickets_sold AS TEXT) || ',' || CAST(tickets_refunded AS TEXT) || ',' "
    "|| CAST(commission_fen AS TEXT)"
)
_DIGEST_TEXT = {
    "postgresql": f"SELECT string_agg({_LINE_TEXT}, E'\\n' ORDER BY \"order\") AS text "
    "FROM finance_statement_line WHERE statement = {}",
    # SQLite 3.40 has no ORDER BY inside an aggregate: group_concat takes the ordered subquery's rows in turn
    "sqlite": f"SELECT group_concat(line, char(10)) AS text FROM (SELECT {_LINE_TEXT} AS line "
    'FROM finance_statement_line WHERE statement = {} ORDER BY "order")',
}
# The lines the ledger gives now that differ from the stored ones or have none, the stored lines they match, all
# the stored lines, and the amount due they give: one pass over the ledger, each line found by the unique index
# (statement, order). Lines stored but no longer given are the stored ones not matched. (A FULL JOIN with the
# stored lines as a subquery took minutes on SQLite at 200,000 lines: no index on the subquery.)
_DIFFERENCES = """
SELECT COUNT(*) FILTER (WHERE s."order" IS NULL OR s.code <> l.code OR s.sales_fen <> l.sales
    OR s.refunds_fen <> l.refunds OR s.tickets_sold <> l.sold OR s.tickets_refunded <> l.refunded
    OR s.commission_fen <> l.commission) AS differ,
  COUNT(s."order") AS matched, COALESCE(SUM(l.due), 0) AS due,
  (SELECT COUNT(*) FROM finance_statement_line WHERE statement = {}) AS stored
FROM (%s) l LEFT JOIN finance_statement_line s ON s.statement = {} AND s."order" = l.order_id
"""


@dataclass(frozen=True, slots=True)
class Line:
    """A statement's line as stored (finance_statement_line)."""

    order_id: int
    code: str
    sales_fen: int
    refunds_fen: int
    tickets_sold: int
    tickets_refunded: int
    commission_fen: int
    due_fen: int


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


async def agreement_for(partner_id: int, on: dt.date, outlet: str = "") -> dict:
    """The agreement of the partner (or of its outlet) in force on a day."""
    row = (
        await Agreement.select()
        .where((Agreement.partner == partner_id) & (Agreement.outlet == outlet) & (Agreement.valid_from <= on))
        .order_by(Agreement.valid_from, ascending=False)
        .order_by(Agreement.id, ascending=False)
        .first()
    )
    if row is None:
        if outlet:
            raise Conflict(
                "The outlet {outlet} has no settlement agreement in force on {day}.", outlet=outlet, day=on.isoformat()
            )
        raise Conflict("This partner has no settlement agreement in force on {day}.", day=on.isoformat())
    return row


def _lines_sql(agreement: dict, start: dt.date, end: dt.date) -> tuple[str, list]:
    """The lines' SELECT (_LINES) for an agreement's partner and outlet and a period, with its arguments."""
    since, until = period_window(start, end)
    partner, outlet = agreement["partner"], agreement["outlet"]
    scope, scope_args = ("o.outlet = {}", [outlet]) if outlet else (_OWN_SCOPE, [partner, start])
    sql = (
        _LINES.replace("{bp}", str(int(agreement["commission_bp"])))
        .replace("{per_ticket}", str(int(agreement["per_ticket_fen"])))
        .replace("{scope}", scope)
    )
    return sql, [partner, since, until, *scope_args]


def _digest(agreement: dict, text: str | None) -> str:
    h = hashlib.sha256(f"{agreement['id']},{agreement['commission_bp']},{agreement['per_ticket_fen']}\n".encode())
    if text:
        h.update(text.encode() + b"\n")
    return h.hexdigest()


async def _plan_for_many_lines() -> None:
    """PostgreSQL, inside the caller's transaction: no JIT compilation (at 200,000 lines it inlined and optimised
    the plan for 1.2 s when writing them and 6 s when re-running them, more than running it) and memory enough
    to group the period's entries without spilling to disk."""
    if is_postgres(Statement._meta.db):
        await Statement.raw("SET LOCAL jit = off").run()
        await Statement.raw("SET LOCAL work_mem = '64MB'").run()


async def insert_lines(statement_id: int, agreement: dict, start: dt.date, end: dt.date) -> None:
    """Write a statement's lines from the ledger: one INSERT ... SELECT (inside the caller's transaction)."""
    sql, args = _lines_sql(agreement, start, end)
    await _plan_for_many_lines()
    await StatementLine.raw(_INSERT % sql, statement_id, *args).run()


async def _set_totals(statement_id: int, agreement: dict) -> dict:
    """The statement's totals and digest from its stored lines (inside the caller's transaction)."""
    engine = "postgresql" if is_postgres(Statement._meta.db) else "sqlite"
    totals = (await StatementLine.raw(_TOTALS, statement_id))[0]
    text = (await StatementLine.raw(_DIGEST_TEXT[engine], statement_id))[0]["text"]
    values = {c: int(totals[c]) for c in ("orders", "tickets", "sales_fen", "refunds_fen", "commission_fen", "due_fen")}
    await Statement.update({**values, "digest": _digest(agreement, text)}).where(Statement.id == statement_id)
    return values


async def lines(statement_id: int, limit: int = 500, after: int = 0) -> list[Line]:
    """A statement's stored lines in order of the order's id: the first `limit` after the order `after`."""
    columns = [StatementLine._meta.get_column_by_name(c) for c in ("order", "code", *LINE_COLUMNS)]
    rows = (
        await StatementLine.select(*columns)
        .where((StatementLine.statement == statement_id) & (StatementLine.order > after))
        .order_by(StatementLine.order)
        .limit(limit)
    )
    return [Line(r["order"], r["code"], *(int(r[c]) for c in LINE_COLUMNS)) for r in rows]


async def line_batches(statement_id: int, size: int = 5000) -> AsyncIterator[list[Line]]:
    """All lines of a statement, a batch at a time, for a file or an answer that streams them."""
    after = 0
    while batch := await lines(statement_id, size, after):
        yield batch
        after = batch[-1].order_id


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
    actor: Actor, partner_id: int, start: dt.date, end: dt.date, now: dt.datetime | None = None, outlet: str = ""
) -> int:
    """A draft statement of the partner (or of its outlet) for a finished period, its lines written from the
    ledger. Refused when it overlaps another statement of the partner and outlet that is not discarded (a
    confirmed or paid one above all)."""
    now = now or utcnow()
    outlet = outlet.strip()
    if end < start:
        raise InvalidInput("The period ends before it starts.", field="end")
    if end >= venue_day(now):
        raise InvalidInput(
            "A statement covers finished days only: end the period yesterday at the latest.", field="end"
        )
    if (end - start).days > 92:
        raise InvalidInput("A statement covers at most 93 days.", field="start")
    agreement = await agreement_for(partner_id, start, outlet)
    async with queued_write(Statement._meta.db):
        await _serialise(partner_id)
        overlap = (
            await Statement.select(Statement.id, Statement.status, Statement.period_start, Statement.period_end)
            .where(
                (Statement.partner == partner_id)
                & (Statement.outlet == outlet)
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
                    agreement=agreement["id"],
                    outlet=outlet,
                    period_start=start,
                    period_end=end,
                    status=DRAFT,
                    created_at=now,
                    created_by=actor.name,
                )
            ).returning(Statement.id)
        )[0]["id"]
        await insert_lines(statement_id, agreement, start, end)
        totals = await _set_totals(statement_id, agreement)
        await record(
            actor,
            "statement.create",
            "statement",
            statement_id,
            after={
                "partner": partner_id,
                "outlet": outlet,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "orders": totals["orders"],
                "due_fen": totals["due_fen"],
            },
        )
    return statement_id


async def get_statement(statement_id: int, partner_id: int | None = None) -> dict:
    query = Statement.select(*Statement.all_columns(), Statement.partner.name).where(Statement.id == statement_id)
    row = await query.first()
    if row is None or (partner_id is not None and row["partner"] != partner_id):
        raise NotFound("No such statement.")
    return row


async def agreement_of(statement: dict) -> dict:
    row = await Agreement.select().where(Agreement.id == statement["agreement"]).first()
    assert row is not None  # a statement's agreement is never deleted (restrict)
    return row


@dataclass(frozen=True, slots=True)
class Rerun:
    """A statement's period run again from the ledger: the same lines to the fen? and the amount due now."""

    same: bool
    due_fen: int


async def verify(statement_id: int) -> tuple[dict, Rerun]:
    """Re-run a statement's period from the ledger. One statement joins the lines the ledger gives now with
    the stored ones and counts those that differ, either way."""
    row = await get_statement(statement_id)
    agreement = await agreement_of(row)
    sql, args = _lines_sql(agreement, row["period_start"], row["period_end"])
    async with StatementLine._meta.db.transaction():
        await _plan_for_many_lines()
        found = (await StatementLine.raw(_DIFFERENCES % sql, statement_id, *args, statement_id))[0]
    same = int(found["differ"]) == 0 and int(found["matched"]) == int(found["stored"])
    return row, Rerun(same, int(found["due"]))


async def _move(actor: Actor, statement_id: int, before: str, after: str, values: dict, action: str) -> None:
    row = await get_statement(statement_id)
    async with queued_write(Statement._meta.db):
        await _serialise(row["partner"])
        if after == CONFIRMED:
            clash = await Statement.exists().where(
                (Statement.partner == row["partner"])
                & (Statement.outlet == row["outlet"])
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
    _, rerun = await verify(statement_id)
    if not rerun.same:
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
