"""The daily reconciliation (R8.2 账账相符, issue 12): a three-way match of orders, our payments and the payment
provider's statement, and the partner settlements, per venue-local day.

- The provider's statement is a CSV file the provider serves for a day once that day has ended (cut at 00:00
  Asia/Shanghai), one line per payment and refund with its time, type, reference, order and amount in yuan,
  the shape real providers use (Alipay's and WeChat Pay's daily bills). The sandbox provider serves it from
  its own books (finance_provider_book) at /pay/sandbox/statements/DAY.csv, signed requests only; the match
  fetches it over HTTP like any provider's (`SANDBOX_PROVIDER_URL`, default this server).
- provider: every statement line against our payments (sales_payment of the provider, by reference) and our
  refunds (the ledger's refund entries and the automatic refunds of late payments): missing on our side,
  missing on the statement, amounts or statuses that differ.
- orders: every order with ledger entries in the day: the money (payment, refund, price difference) against
  the revenue (sale, fee kept, price difference), and window money booked outside a shift.
- partner: every confirmed or paid partner statement whose period ends in the day, recomputed from the ledger
  and compared to the fen (db/finance/settlement.py).

Every mismatch is one row of the exception queue; the auditor resolves each with a note. A day closes only
when it has been matched and its queue is empty; a closed day is never changed again: no re-match, no
resolution, and no ledger entry dated in it (db/finance/ledger.py refuses it: entries are dated when money
moves, and a day closes only after it ended, so only a back-dated operation meets this; a provider's late
notice is booked at its arrival, in the open day)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
from dataclasses import dataclass

import httpx

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import queued_write
from db.finance import ledger
from db.finance.tables import LedgerEntry, ProviderBook, ReconDay, ReconException, Statement
from db.sales.payments.providers import provider, provider_url
from db.sales.status import WINDOW_METHODS
from db.sales.tables import Payment, PaymentRefund

PROVIDER = "sandbox"
COLUMNS = ("transaction_time", "type", "reference", "order_code", "amount")
OPEN = "open"
CLOSED = "closed"
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a provider's statement."""

    at: dt.datetime
    kind: str  # payment | refund
    reference: str
    order_code: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Mismatch:
    source: str
    kind: str
    reference: str
    order_code: str = ""
    ours_fen: int | None = None
    theirs_fen: int | None = None
    detail: str = ""


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC start and end of a venue-local day."""
    start = dt.datetime.combine(day, dt.time(0), VENUE_TIMEZONE)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("Give the day as YYYY-MM-DD.", field="day") from None


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(text: str) -> int:
    whole, _, decimals = text.strip().partition(".")
    if not whole.isdigit() or not (decimals == "" or (decimals.isdigit() and len(decimals) <= 2)):
        raise ValueError(f"bad amount {text!r}")
    return int(whole) * 100 + int(decimals.ljust(2, "0") or 0)


# --- the sandbox provider's side ---------------------------------------------------------------------------


async def provider_books(kind: str, reference: str, order_code: str, amount_fen: int, at: dt.datetime | None = None):
    """The sandbox provider records what it did in its own books (its checkout took the money; it accepted a
    refund). Its own small write, outside our operations' transactions, as a provider's would be."""
    async with queued_write(ProviderBook._meta.db):
        await ProviderBook.insert(
            ProviderBook(
                provider=PROVIDER,
                at=at or utcnow(),
                kind=kind,
                reference=reference,
                order_code=order_code,
                amount_fen=amount_fen,
            )
        )


def statement_signature(day: dt.date) -> str:
    """What a merchant sends to download a day's statement: the HMAC of the day with the provider's secret."""
    return hmac.new(provider(PROVIDER).secret, f"statement:{day.isoformat()}".encode(), hashlib.sha256).hexdigest()


async def provider_statement(day: dt.date, signature: str, now: dt.datetime | None = None) -> str:
    """The sandbox provider's statement file for a day: refused before the day has ended or without the
    merchant's signature."""
    if not hmac.compare_digest(statement_signature(day), signature or ""):
        raise NotFound("No such statement.")
    start, end = day_window(day)
    if (now or utcnow()) < end:
        raise Conflict("The statement of {day} is ready after midnight.", day=day.isoformat())
    rows = (
        await ProviderBook.select()
        .where((ProviderBook.provider == PROVIDER) & (ProviderBook.at >= start) & (ProviderBook.at < end))
        .order_by(ProviderBook.at)
        .order_by(ProviderBook.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(f"# sandbox daily statement {day.isoformat()} {VENUE_TIMEZONE.key}\n")
    writer.writerow(COLUMNS)
    for r in rows:
        local = r["at"].astimezone(VENUE_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow((local, r["kind"], r["reference"], r["order_code"], _yuan(r["amount_fen"])))
    paid = [r["amount_fen"] for r in rows if r["kind"] == "payment"]
    back = [r["amount_fen"] for r in rows if r["kind"] == "refund"]
    out.write(f"# payments {len(paid)} {_yuan(sum(paid))}; refunds {len(back)} {_yuan(sum(back))}\n")
    return out.getvalue()


def parse_statement(text: str) -> list[Line]:
    """The lines of a statement file ('#' lines are comments); a malformed file raises ValueError."""
    body = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(body)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"unexpected columns {reader.fieldnames}")
    lines = []
    for row in reader:
        if row["type"] not in ("payment", "refund"):
            raise ValueError(f"unknown type {row['type']!r}")
        local = dt.datetime.strptime(row["transaction_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=VENUE_TIMEZONE)
        lines.append(
            Line(local.astimezone(dt.UTC), row["type"], row["reference"], row["order_code"], _fen(row["amount"]))
        )
    return lines


async def fetch_statement(day: dt.date, base_url: str | None = None) -> list[Line]:
    """Download a day's statement over HTTP (a real request, outside any transaction) and parse it."""
    url = f"{base_url or provider_url()}/pay/sandbox/statements/{day.isoformat()}.csv"
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.get(url, headers={"X-Sandbox-Signature": statement_signature(day)})
    except httpx.HTTPError as exc:
        raise Conflict("The provider's statement could not be fetched: {reason}.", reason=type(exc).__name__) from None
    if answer.status_code == 409:
        raise Conflict("The provider's statement of {day} is not ready yet.", day=day.isoformat())
    if answer.status_code != 200:
        raise Conflict("The provider's statement could not be fetched: {reason}.", reason=str(answer.status_code))
    try:
        return parse_statement(answer.text)
    except (ValueError, KeyError) as exc:
        raise Conflict("The provider's statement is malformed: {reason}.", reason=str(exc)[:200]) from None


# --- the match -------------------------------------------------------------------------------------------


def compare(source: str, kind_of_line: str, ours: dict[str, int], theirs: dict[str, int], codes: dict) -> list:
    """Mismatches between two keyed sets of amounts."""
    found = []
    for reference in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(reference), theirs.get(reference)
        code = codes.get(reference, "")
        if mine is None:
            found.append(Mismatch(source, "missing_ours", reference, code, None, other, kind_of_line))
        elif other is None:
            found.append(Mismatch(source, "missing_theirs", reference, code, mine, None, kind_of_line))
        elif mine != other:
            found.append(Mismatch(source, "amount", reference, code, mine, other, kind_of_line))
    return found


async def _provider_mismatches(day: dt.date, lines: list[Line]) -> list[Mismatch]:
    start, end = day_window(day)
    codes = {line.reference: line.order_code for line in lines}
    theirs: dict[str, dict[str, int]] = {"payment": {}, "refund": {}}
    for line in lines:
        theirs[line.kind][line.reference] = theirs[line.kind].get(line.reference, 0) + line.amount_fen
    payments = await Payment.select(
        Payment.reference, Payment.amount_fen, Payment.status, Payment.order.code, Payment.confirmed_at
    ).where(
        (Payment.method == PROVIDER)
        & (
            ((Payment.confirmed_at >= start) & (Payment.confirmed_at < end))
            | Payment.reference.is_in(list(theirs["payment"]) or [""])
        )
    )
    ours_paid: dict[str, int] = {}
    found: list[Mismatch] = []
    for p in payments:
        codes.setdefault(p["reference"], p["order.code"])
        if p["status"] in ("succeeded", "refunded") and p["confirmed_at"] and start <= p["confirmed_at"] < end:
            ours_paid[p["reference"]] = p["amount_fen"]
        elif p["reference"] in theirs["payment"]:
            found.append(
                Mismatch(
                    "provider",
                    "status",
                    p["reference"],
                    p["order.code"],
                    p["amount_fen"],
                    theirs["payment"][p["reference"]],
                    f"provider: paid; ours: {p['status']}",
                )
            )
            theirs["payment"].pop(p["reference"])
    found += compare("provider", "payment", ours_paid, theirs["payment"], codes)
    ours_back: dict[str, int] = {}
    for e in await LedgerEntry.select(LedgerEntry.reference, LedgerEntry.amount_fen, LedgerEntry.order.code).where(
        (LedgerEntry.method == PROVIDER)
        & (LedgerEntry.kind == ledger.REFUND)
        & (LedgerEntry.at >= start)
        & (LedgerEntry.at < end)
    ):
        ours_back[e["reference"]] = ours_back.get(e["reference"], 0) - e["amount_fen"]
        codes.setdefault(e["reference"], e["order.code"])
    for r in await PaymentRefund.select(PaymentRefund.amount_fen, PaymentRefund.payment.reference).where(
        (PaymentRefund.status == "done")
        & (PaymentRefund.created_at >= start)
        & (PaymentRefund.created_at < end)
        & (PaymentRefund.payment.method == PROVIDER)
    ):
        reference = r["payment.reference"]
        ours_back[reference] = ours_back.get(reference, 0) + r["amount_fen"]
    found += compare("provider", "refund", ours_back, theirs["refund"], codes)
    return found


async def _order_mismatches(day: dt.date) -> list[Mismatch]:
    start, end = day_window(day)
    rows = await LedgerEntry.select(
        LedgerEntry.order.code,
        LedgerEntry.kind,
        LedgerEntry.amount_fen,
        LedgerEntry.method,
        LedgerEntry.shift_id,
        LedgerEntry.drawer_id,
        LedgerEntry.id,
    ).where((LedgerEntry.at >= start) & (LedgerEntry.at < end))
    money: dict[str, int] = {}
    revenue: dict[str, int] = {}
    found = []
    for r in rows:
        code = r["order.code"]
        if r["kind"] in ledger.MONEY_KINDS:
            money[code] = money.get(code, 0) + r["amount_fen"]
        if r["kind"] in ledger.REVENUE_KINDS:
            revenue[code] = revenue.get(code, 0) + r["amount_fen"]
        if r["kind"] in ledger.MONEY_KINDS and r["method"] in WINDOW_METHODS and r["shift_id"] is None:
            found.append(
                Mismatch(
                    "orders", "status", f"entry {r['id']}", code, r["amount_fen"], None, "window money outside a shift"
                )
            )
    for code in sorted(set(money) | set(revenue)):
        if money.get(code, 0) != revenue.get(code, 0):
            found.append(
                Mismatch("orders", "amount", code, code, money.get(code, 0), revenue.get(code, 0), "money vs revenue")
            )
    paid_orders = await Payment.select(Payment.order.code, Payment.order.status, Payment.outcome).where(
        Payment.status.is_in(["succeeded"]) & (Payment.confirmed_at >= start) & (Payment.confirmed_at < end)
    )
    for p in paid_orders:
        if p["outcome"] != "refund_due" and p["order.status"] not in ("paid", "refunded"):
            found.append(
                Mismatch(
                    "orders", "status", p["order.code"], p["order.code"], None, None, f"paid, order {p['order.status']}"
                )
            )
    return found


async def _partner_mismatches(day: dt.date) -> list[Mismatch]:
    from db.finance import settlement

    found = []
    for s in await Statement.select().where(
        Statement.status.is_in(["confirmed", "paid"]) & (Statement.period_end == day)
    ):
        _, rerun = await settlement.verify(s["id"])
        if not rerun.same:
            found.append(
                Mismatch(
                    "partner",
                    "amount",
                    f"statement {s['id']}",
                    "",
                    s["due_fen"],
                    rerun.due_fen,
                    "the ledger no longer gives the confirmed statement",
                )
            )
    return found


async def match_day(actor: Actor, day: dt.date, base_url: str | None = None, now: dt.datetime | None = None) -> dict:
    """Fetch the provider's statement (HTTP, before any write), match everything, queue each new mismatch;
    mismatches of an earlier match that are gone are resolved by the match. Refused for a closed day."""
    now = now or utcnow()
    if (await _day(day))["status"] == CLOSED:
        raise Conflict("The day {day} is closed; it cannot change.", day=day.isoformat())
    lines = await fetch_statement(day, base_url)
    found = await _provider_mismatches(day, lines) + await _order_mismatches(day) + await _partner_mismatches(day)
    async with queued_write(ReconDay._meta.db):
        if (await _day(day))["status"] == CLOSED:
            raise Conflict("The day {day} is closed; it cannot change.", day=day.isoformat())
        keys = {(m.source, m.kind, m.reference) for m in found}
        known = await ReconException.select().where(ReconException.day == day)
        have = {(e["source"], e["kind"], e["reference"]) for e in known}
        for e in known:
            if e["status"] == OPEN and (e["source"], e["kind"], e["reference"]) not in keys:
                await ReconException.update(
                    {
                        ReconException.status: RESOLVED,
                        ReconException.note: "no longer found by the match",
                        ReconException.resolved_by: actor.name,
                        ReconException.resolved_at: now,
                    }
                ).where(ReconException.id == e["id"])
        new = [m for m in found if (m.source, m.kind, m.reference) not in have]
        if new:
            await ReconException.insert(
                *[
                    ReconException(
                        day=day,
                        source=m.source,
                        kind=m.kind,
                        reference=m.reference[:64],
                        order_code=m.order_code[:40],
                        ours_fen=m.ours_fen,
                        theirs_fen=m.theirs_fen,
                        detail=m.detail,
                        status=OPEN,
                        found_at=now,
                    )
                    for m in new
                ]
            )
        await ReconDay.update({ReconDay.matched_at: now, ReconDay.statement_lines: len(lines)}).where(
            ReconDay.day == day
        )
        await record(
            actor,
            "recon.match",
            "recon_day",
            day.isoformat(),
            after={"statement_lines": len(lines), "mismatches": len(found), "new": len(new)},
        )
    return {"lines": len(lines), "mismatches": len(found), "new": len(new)}


async def _day(day: dt.date) -> dict:
    """The day's row, made when first asked for."""
    row = await ReconDay.select().where(ReconDay.day == day).first()
    if row is None:
        async with queued_write(ReconDay._meta.db):
            if not await ReconDay.exists().where(ReconDay.day == day):
                await ReconDay.insert(ReconDay(day=day, status=OPEN))
        row = await ReconDay.select().where(ReconDay.day == day).first()
    return row


async def resolve(actor: Actor, exception_id: int, note: str, now: dt.datetime | None = None) -> None:
    """The auditor resolves one mismatch with a note (what was found and done). Refused in a closed day."""
    note = note.strip()
    if not note:
        raise InvalidInput("Write what you found and did: a resolution needs a note.", field="note")
    if len(note) > 2000:
        raise InvalidInput("Keep the note under 2000 characters.", field="note")
    async with queued_write(ReconException._meta.db):
        row = await ReconException.select().where(ReconException.id == exception_id).first()
        if row is None:
            raise NotFound("No such mismatch.")
        if await ReconDay.exists().where((ReconDay.day == row["day"]) & (ReconDay.status == CLOSED)):
            raise Conflict("The day {day} is closed; it cannot change.", day=row["day"].isoformat())
        won = (
            await ReconException.update(
                {
                    ReconException.status: RESOLVED,
                    ReconException.note: note,
                    ReconException.resolved_by: actor.name,
                    ReconException.resolved_at: now or utcnow(),
                }
            )
            .where((ReconException.id == exception_id) & (ReconException.status == OPEN))
            .returning(ReconException.id)
        )
        if not won:
            raise Conflict("This mismatch is resolved already.")
        await record(
            actor, "recon.resolve", "recon_exception", exception_id, summary=row["reference"], after={"note": note}
        )


async def close_day(actor: Actor, day: dt.date, now: dt.datetime | None = None) -> None:
    """Close a matched day whose queue is empty; afterwards nothing in it changes."""
    now = now or utcnow()
    if now < day_window(day)[1]:
        raise Conflict("The day {day} has not ended yet.", day=day.isoformat())
    await _day(day)
    async with queued_write(ReconDay._meta.db):
        row = await ReconDay.select().where(ReconDay.day == day).first()
        if row["status"] == CLOSED:
            raise Conflict("The day {day} is closed already.", day=day.isoformat())
        if row["matched_at"] is None:
            raise Conflict("Match the day first: fetch the provider's statement.")
        waiting = await ReconException.count().where((ReconException.day == day) & (ReconException.status == OPEN))
        if waiting:
            raise Conflict("{count} mismatches of this day are not resolved yet.", count=waiting)
        await ReconDay.update({ReconDay.status: CLOSED, ReconDay.closed_at: now, ReconDay.closed_by: actor.name}).where(
            (ReconDay.day == day) & (ReconDay.status == OPEN)
        )
        await record(actor, "recon.close", "recon_day", day.isoformat())


async def day_view(day: dt.date) -> dict:
    """The day and its queue (open first), for the auditor's page."""
    row = await _day(day)
    exceptions = (
        await ReconException.select()
        .where(ReconException.day == day)
        .order_by(ReconException.status)
        .order_by(ReconException.id)
    )
    return {"day": row, "exceptions": exceptions}


async def recent_days(limit: int = 14) -> list[dict]:
    return await ReconDay.select().order_by(ReconDay.day, ascending=False).limit(limit)


async def open_count(day: dt.date) -> int:
    return await ReconException.count().where((ReconException.day == day) & (ReconException.status == OPEN))


def yesterday(now: dt.datetime | None = None) -> dt.date:
    return ledger.venue_day(now or utcnow()) - dt.timedelta(days=1)
