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
from db.core.rows import Shape
from db.finance.tables import LedgerEntry

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
    """Write the entries of one operation (inside its transaction). Zero amounts are not written."""
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
            )
        )
        for m in movements
        if m.amount_fen != 0
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


async def drawer_cash(drawer_id: int, since: dt.datetime, until: dt.datetime) -> int:
    """The cash a seller's drawer took in less paid out in a period (the shift's cash total, issue 12)."""
    rows = await LedgerEntry.select(LedgerEntry.amount_fen).where(
        (LedgerEntry.drawer_id == drawer_id)
        & (LedgerEntry.method == "cash")
        & (LedgerEntry.at >= since)
        & (LedgerEntry.at < until)
        & LedgerEntry.kind.is_in(list(MONEY_KINDS))
    )
    return sum(r["amount_fen"] for r in rows)
