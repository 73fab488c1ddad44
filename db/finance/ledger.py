"""The money ledger (R8, issue 11): every movement of money is one immutable entry, written inside the
operation that moves it. Nothing is corrected in place; the database refuses an UPDATE.

Signs are from the center's side. Money kinds (their sum per method is what the drawer, the card terminal or
the provider holds): payment (+, money received), refund (-, money paid back), price_difference (+ charged,
- paid back on an exchange). Revenue kinds: sale (+ the order's value when it is paid, - the refunded or
exchanged tickets' value), fee_kept (+ the refund or exchange fee the center keeps). For every order,
money = revenue. An exchange carries the old tickets' price less its fee from the old order (a refund with
method "exchange") to the new one (a payment with method "exchange"): those two sum to zero, no money moves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE
from db.core.errors import Conflict
from db.core.rows import Shape
from db.finance.tables import FinancePolicy, LedgerEntry, ReconDay, Shift
from db.sales.status import WINDOW_METHODS

SALE = "sale"
PAYMENT = "payment"
REFUND = "refund"
FEE_KEPT = "fee_kept"
PRICE_DIFFERENCE = "price_difference"
KINDS = (SALE, PAYMENT, REFUND, FEE_KEPT, PRICE_DIFFERENCE)
MONEY_KINDS = (PAYMENT, REFUND, PRICE_DIFFERENCE)
REVENUE_KINDS = (SALE, FEE_KEPT)
EXCHANGE_METHOD = "exchange"  # the value an exchange carries between two orders (no money moves)


@dataclass(frozen=True, slots=True)
class Movement:
    kind: str
    amount_fen: int
    method: str = ""
    reference: str = ""
    note: str = ""


LEDGER = Shape(
    LedgerEntry,
    columns=(
        "at",
        "kind",
        "amount_fen",
        "method",
        "channel",
        "order",
        "partner",
        "refund_id",
        "payment_id",
        "drawer_id",
        "reference",
        "actor_id",
        "actor_name",
        "note",
        "shift_id",
    ),
)


def entry_row(
    actor: Actor,
    at: dt.datetime,
    order_id: int | None,
    movement: Movement,
    *,
    channel: str = "",
    partner_id: int | None = None,
    refund_id: int | None = None,
    payment_id: int | None = None,
    drawer_id: int | None = None,
    shift_id: int | None = None,
) -> dict:
    """One ledger entry's row (shape LEDGER), the same for `post` and the on-sale fast path's statement."""
    return {
        "at": at,
        "kind": movement.kind,
        "amount_fen": movement.amount_fen,
        "method": movement.method,
        "channel": channel,
        "order": order_id,
        "partner": partner_id,
        "refund_id": refund_id,
        "payment_id": payment_id,
        "drawer_id": drawer_id if movement.method == "cash" else None,
        "reference": movement.reference,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "note": movement.note,
        "shift_id": shift_id if movement.method in WINDOW_METHODS else None,
    }


async def post(
    actor: Actor,
    at: dt.datetime,
    order_id: int,
    movements: list[Movement],
    *,
    channel: str = "",
    partner_id: int | None = None,
    refund_id: int | None = None,
    payment_id: int | None = None,
    drawer_id: int | None = None,
) -> None:
    """Write the entries of one operation (inside its transaction). Zero amounts are not written.

    Money taken or paid back at the window (cash, card, mobile) by the seller `drawer_id` goes into that
    seller's open shift (issue 12, R8.2); without one it is refused when the finance policy requires shifts,
    else written without a shift (the reconciliation lists such entries). An entry dated in a closed
    reconciliation day is refused (db/finance/reconciliation.py)."""
    movements = [m for m in movements if m.amount_fen != 0]
    await refuse_closed_day(at)
    shift_id = None
    if drawer_id is not None and any(m.method in WINDOW_METHODS for m in movements):
        shift_id = await attach_to_shift(drawer_id)
    rows = [
        LedgerEntry(
            **entry_row(
                actor,
                at,
                order_id,
                m,
                channel=channel,
                partner_id=partner_id,
                refund_id=refund_id,
                payment_id=payment_id,
                drawer_id=drawer_id,
                shift_id=shift_id,
            )
        )
        for m in movements
    ]
    if rows:
        await LedgerEntry.insert(*rows)


async def entries(order_id: int) -> list[dict]:
    return await LedgerEntry.select().where(LedgerEntry.order == order_id).order_by(LedgerEntry.id)


async def balance(order_id: int) -> dict[str, int]:
    """Per kind, the order's sum."""
    totals = {kind: 0 for kind in KINDS}
    for row in await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.amount_fen).where(LedgerEntry.order == order_id):
        totals[row["kind"]] += row["amount_fen"]
    return totals


async def policy() -> dict:
    """The finance policy in force (the newest version), or the defaults before anyone set one."""
    row = await FinancePolicy.select().order_by(FinancePolicy.id, ascending=False).first()
    return row or {"variance_tolerance_fen": 1000, "shift_required": False, "set_at": None, "set_by": ""}


async def attach_to_shift(seller_id: int) -> int | None:
    """The seller's open shift, counted one entry more. A conditional UPDATE, so on PostgreSQL it holds the
    shift's row until the payment commits: a close that starts meanwhile waits and then counts this entry."""
    won = (
        await Shift.update({Shift.entries: Shift.entries + 1})
        .where((Shift.seller == seller_id) & (Shift.status == "open"))
        .returning(Shift.id)
    )
    if won:
        return won[0]["id"]
    if (await policy())["shift_required"]:
        raise Conflict("Open a shift at your window before you take or pay back money.")
    return None


def venue_day(at: dt.datetime) -> dt.date:
    """The venue-local calendar day of a UTC time: the day of the reconciliation it belongs to."""
    return at.astimezone(VENUE_TIMEZONE).date()


async def refuse_closed_day(at: dt.datetime) -> None:
    """A ledger entry dated in a closed reconciliation day is refused (issue 12): the closed day's match must
    stay true. Entries are dated when the money moves and a day closes only after it has ended, so only a
    back-dated operation can meet this."""
    if await ReconDay.exists().where((ReconDay.day == venue_day(at)) & (ReconDay.status == "closed")):
        raise Conflict(
            "The day {day} is closed by the reconciliation; nothing can be booked into it.", day=str(venue_day(at))
        )


async def shift_totals(shift_id: int) -> dict[str, int]:
    """Per window method, the money of a shift's entries (payments +, refunds -)."""
    totals = {method: 0 for method in WINDOW_METHODS}
    rows = await LedgerEntry.select(LedgerEntry.method, LedgerEntry.amount_fen).where(
        (LedgerEntry.shift_id == shift_id) & LedgerEntry.kind.is_in(list(MONEY_KINDS))
    )
    for row in rows:
        totals[row["method"]] += row["amount_fen"]
    return totals
