"""The money ledger: immutable entries (an UPDATE is refused by a trigger on both engines)."""

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.sales.tables import Order, Partner
from db.staff.tables import StaffUser


class LedgerEntry(Table, tablename="finance_ledger"):
    """One movement of money. `amount_fen` is signed from the center's side: money in > 0, money out < 0.

    kind: sale (the order's value becomes due), payment (money received), refund (money paid back),
    fee_kept (the refund fee the center keeps), price_difference (an exchange's difference, either way)."""

    at = Timestamptz(index=True)
    kind = Varchar(length=20, index=True)
    amount_fen = Integer()
    method = Varchar(length=20, default="")  # cash | card | mobile | partner | sandbox
    channel = Varchar(length=20, default="")
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    refund_id = Integer(null=True, default=None, index=True)
    payment_id = Integer(null=True, default=None)
    drawer_id = Integer(null=True, default=None, index=True)  # the seller whose cash drawer it went in or out of
    reference = Varchar(length=64, default="")
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)
    note = Text(default="")
    shift_id = Integer(null=True, default=None, index=True)  # the seller's open shift (window methods, issue 12)


class Window(Table, tablename="finance_window"):
    """A ticket window or outlet where a seller takes money (R8.2): shifts are opened at one."""

    name = Varchar(length=60, unique=True)
    place = Varchar(length=100, default="")  # the venue or street it stands in
    kind = Varchar(length=10, default="window")  # window | outlet
    active = Boolean(default=True)


class Shift(Table, tablename="finance_shift"):
    """A seller's shift at a window (R8.2 账实相符): the float, every window payment and refund of the seller
    while it is open (finance_ledger.shift_id), and its blind close.

    status: open -> closed (every method within the tolerance) or open -> review (a variance over the
    tolerance: the seller writes why, a supervisor other than the seller signs off) -> closed. At most one
    shift per window and one per seller is not closed (partial unique indexes, migration)."""

    window = ForeignKey(references=Window, on_delete=OnDelete.restrict, null=False, index=True)
    seller = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=False, index=True)
    seller_name = Varchar(length=100)
    float_fen = Integer()
    opened_at = Timestamptz()
    status = Varchar(length=10, default="open", index=True)  # open | review | closed
    entries = Integer(default=0)  # window ledger entries attached (the attach UPDATE also locks the row)
    counted_at = Timestamptz(null=True, default=None)
    notes = Text(default="")  # the count by denomination, JSON {fen value: pieces}
    cash_counted_fen = Integer(null=True, default=None)
    card_slip_fen = Integer(null=True, default=None)
    mobile_slip_fen = Integer(null=True, default=None)
    expected_cash_fen = Integer(null=True, default=None)  # float + cash entries of the shift
    expected_card_fen = Integer(null=True, default=None)
    expected_mobile_fen = Integer(null=True, default=None)
    tolerance_fen = Integer(null=True, default=None)  # the policy's tolerance at the count
    explanation = Text(default="")
    signed_off_by = Integer(null=True, default=None)
    signed_off_name = Varchar(length=100, default="")
    signed_off_note = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    flagged_at = Timestamptz(null=True, default=None)  # still not closed the morning after it was opened


class FinancePolicy(Table, tablename="finance_policy"):
    """Finance rules as data, one row per version (the newest is in force): the variance a shift may have
    per payment method before it needs a supervisor, and whether window money needs an open shift."""

    variance_tolerance_fen = Integer(default=1000)
    shift_required = Boolean(default=False)
    set_at = Timestamptz()
    set_by = Varchar(length=100, default="")


class ProviderBook(Table, tablename="finance_provider_book"):
    """The sandbox payment provider's own books (what it took and gave back), from which it serves its daily
    statement file. It stands for the provider's side of the reconciliation: our code writes it only where
    the sandbox itself acts (its checkout page takes the money, it accepts a refund)."""

    provider = Varchar(length=20, default="sandbox")
    at = Timestamptz(index=True)
    kind = Varchar(length=10)  # payment | refund
    reference = Varchar(length=64, index=True)  # the provider's payment id
    order_code = Varchar(length=40, default="")
    amount_fen = Integer()  # positive; a refund is money going back


class ReconDay(Table, tablename="finance_recon_day"):
    """One venue-local day of the three-way match (R8.2 账账相符). Closed only when its queue is empty; a closed
    day is never changed again (no re-match, no resolution, no ledger entry dated in it)."""

    day = Date(unique=True)
    status = Varchar(length=10, default="open")  # open | closed
    matched_at = Timestamptz(null=True, default=None)
    statement_lines = Integer(default=0)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=100, default="")


class ReconException(Table, tablename="finance_recon_exception"):
    """One mismatch found by a match: missing on our side or theirs, amounts or statuses that differ."""

    day = Date(index=True)
    source = Varchar(length=20)  # provider | orders | partner
    kind = Varchar(length=20)  # missing_ours | missing_theirs | amount | status
    reference = Varchar(length=64, default="")
    order_code = Varchar(length=40, default="")
    ours_fen = BigInt(null=True, default=None)  # a statement's amount due can pass 2^31 fen
    theirs_fen = BigInt(null=True, default=None)
    detail = Text(default="")
    status = Varchar(length=10, default="open", index=True)  # open | resolved
    found_at = Timestamptz()
    note = Text(default="")
    resolved_by = Varchar(length=100, default="")
    resolved_at = Timestamptz(null=True, default=None)


class Agreement(Table, tablename="finance_agreement"):
    """A settlement agreement with a partner platform or one of its outlets (R8.1): commission as basis points
    of the net sales and/or a sum per net ticket, the cycle and the settlement day (weekday 1-7 for weekly,
    day of the month 1-28 for monthly)."""

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=False, index=True)
    outlet = Varchar(length=60, default="")  # '' = the partner's own channel
    commission_bp = Integer(default=0)  # 1 bp = 0.01 %
    per_ticket_fen = Integer(default=0)
    cycle = Varchar(length=10, default="monthly")  # weekly | monthly
    settlement_day = Integer(default=1)
    valid_from = Date()
    created_at = Timestamptz()
    created_by = Varchar(length=100, default="")
    turn = Integer(default=0)  # bumped by every statement write: serialises them per partner on PostgreSQL


class Statement(Table, tablename="finance_statement"):
    """A partner's (or one of its outlets') statement for a period (inclusive dates, venue-local): sales -
    refunds - commission = due. Its lines are in finance_statement_line, written from the ledger by one INSERT
    ... SELECT; a re-run compares the ledger's lines with them in SQL, and `digest` (SHA-256 of the lines) lets
    the partner check what it was sent. Money sums are BigInt: a month of a large partner passes 2^31 fen.

    status: draft -> confirmed (an auditor) -> paid; a draft can be discarded."""

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=False, index=True)
    agreement = ForeignKey(references=Agreement, on_delete=OnDelete.restrict, null=False)
    outlet = Varchar(length=60, default="")  # '' = the partner's own sales (outlets without their own agreement)
    period_start = Date()
    period_end = Date()
    status = Varchar(length=12, default="draft", index=True)
    orders = Integer(default=0)
    tickets = Integer(default=0)
    sales_fen = BigInt(default=0)
    refunds_fen = BigInt(default=0)
    commission_fen = BigInt(default=0)
    due_fen = BigInt(default=0)
    digest = Varchar(length=64, default="")
    created_at = Timestamptz()
    created_by = Varchar(length=100, default="")
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_by = Varchar(length=100, default="")
    paid_at = Timestamptz(null=True, default=None)
    paid_by = Varchar(length=100, default="")
    paid_reference = Varchar(length=64, default="")


class StatementLine(Table, tablename="finance_statement_line"):
    """One order's line of a statement: its partner money in the period (db/finance/settlement.py _LINES).

    The lines of a statement are found by the unique index (statement, order). On PostgreSQL the two foreign
    keys are not enforced by constraints (migration 2026-12-01T17:21): their checks, one trigger per line and
    key, took 7.8 of the 14 s that writing 200,000 lines took. The only writer is the INSERT ... SELECT that
    joins each line's order and writes the statement made in the same transaction; orders and statements are
    never deleted (a statement is discarded)."""

    statement = ForeignKey(references=Statement, on_delete=OnDelete.restrict, null=False)
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False)
    code = Varchar(length=40)
    sales_fen = BigInt(default=0)
    refunds_fen = BigInt(default=0)
    tickets_sold = Integer(default=0)
    tickets_refunded = Integer(default=0)
    commission_fen = BigInt(default=0)
    due_fen = BigInt(default=0)


class Budget(Table, tablename="finance_budget"):
    """A yearly budget (R8.3): one amount per month and category (unique, migration)."""

    year = Integer()
    month = Integer()
    category = Varchar(length=30)
    amount_fen = BigInt()  # a year's ticket income passes 2^31 fen (21,474,836.47 yuan)
    set_at = Timestamptz()
    set_by = Varchar(length=100, default="")


class Cost(Table, tablename="finance_cost"):
    """A cost or expense recorded by staff (upstream ticket purchases, printing, other expenses). Never edited:
    a correction is another entry with the opposite sign."""

    day = Date(index=True)
    category = Varchar(length=30)
    amount_fen = BigInt()
    note = Text(default="")
    recorded_at = Timestamptz()
    recorded_by = Varchar(length=100, default="")
