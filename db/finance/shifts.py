"""Shifts at the window (R8.2 账实相符, issue 12): a seller opens a shift at a window with a cash float; every
cash, card and mobile movement the seller books while it is open is in it (db/finance/ledger.py attaches the
ledger entries); the close is a blind count.

Closing: the seller enters the notes and coins by denomination and the totals printed on the card terminal's
and the mobile terminal's slips, without seeing what the books expect; only then is the expected amount
(float + cash entries; card and mobile entries) computed and the variance per method shown. Within the
policy's tolerance the shift is closed; over it the shift waits in `review`: the seller writes why, and a
supervisor who is not the seller signs off. A window and a seller each have at most one shift not closed
(partial unique indexes: of two opens at once, one wins). A shift still not closed on the morning after it
was opened is flagged (the periodic job and the supervisor's page)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, unique_violation
from db.core.text import one_line
from db.core.transaction import queued_write
from db.finance import ledger
from db.finance.tables import FinancePolicy, Shift, Window
from db.staff.permissions import Permission, role_allows

OPEN = "open"
REVIEW = "review"
CLOSED = "closed"
# Chinese yuan notes and coins, in fen: 100, 50, 20, 10, 5, 1 yuan; 5 jiao, 1 jiao.
DENOMINATIONS = (10000, 5000, 2000, 1000, 500, 100, 50, 10)
MAX_PIECES = 100_000  # of one denomination in one drawer
MAX_FLOAT_FEN = 10_000_000  # 100,000 yuan
MAX_SLIP_FEN = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Variance:
    method: str
    expected_fen: int
    counted_fen: int

    @property
    def difference_fen(self) -> int:
        """Counted less expected: > 0 too much in the drawer, < 0 missing."""
        return self.counted_fen - self.expected_fen


def _db():
    return Shift._meta.db


async def windows(active_only: bool = True) -> list[dict]:
    query = Window.select().order_by(Window.name)
    return await (query.where(Window.active.eq(True)) if active_only else query)


async def create_window(actor: Actor, name: str, place: str = "", kind: str = "window") -> int:
    name = one_line(name, "name").strip()
    place = one_line(place, "place").strip()
    if not name or len(name) > 60:
        raise InvalidInput("Give the window a name of up to 60 characters.", field="name")
    if kind not in ("window", "outlet"):
        raise InvalidInput("A window is a ticket window or an outlet.", field="kind")
    async with queued_write(_db()):
        if await Window.exists().where(Window.name == name):
            raise Conflict("A window named {name} exists already.", field="name", name=name)
        window_id = (await Window.insert(Window(name=name, place=place[:100], kind=kind)).returning(Window.id))[0]["id"]
        await record(actor, "window.create", "window", window_id, after={"name": name, "place": place, "kind": kind})
    return window_id


async def open_shift(actor: Actor, window_id: int, float_fen: int, now: dt.datetime | None = None) -> int:
    """Open the actor's shift at a window with a cash float. Refused while the window or the seller has a
    shift that is not closed."""
    now = now or utcnow()
    if actor.user_id is None:
        raise PermissionDenied("Only a signed-in seller opens a shift.")
    if not 0 <= float_fen <= MAX_FLOAT_FEN:
        raise InvalidInput("Enter the cash float, from 0 to 100,000 yuan.", field="float")
    async with queued_write(_db()):
        window = await Window.select(Window.name, Window.active).where(Window.id == window_id).first()
        if window is None or not window["active"]:
            raise NotFound("No such window.")
        busy = await Shift.select(Shift.seller_name, Shift.window).where(
            ((Shift.window == window_id) | (Shift.seller == actor.user_id)) & (Shift.status != CLOSED)
        )
        if busy:
            raise _busy(busy[0], window_id, window["name"])
        try:
            shift_id = (
                await Shift.insert(
                    Shift(
                        window=window_id,
                        seller=actor.user_id,
                        seller_name=actor.name,
                        float_fen=float_fen,
                        opened_at=now,
                        status=OPEN,
                    )
                ).returning(Shift.id)
            )[0]["id"]
        except Exception as exc:  # a concurrent open won the window's (or the seller's) unique index
            if unique_violation(exc):
                raise Conflict(
                    "Window {window} has an open shift already.", field="window", window=window["name"]
                ) from None
            raise
        await record(actor, "shift.open", "shift", shift_id, after={"window": window["name"], "float_fen": float_fen})
    return shift_id


def _busy(row: dict, window_id: int, window_name: str) -> Conflict:
    if row["window"] == window_id:
        return Conflict(
            "Window {window} has an open shift already ({seller}). Close it first.",
            field="window",
            window=window_name,
            seller=row["seller_name"],
        )
    return Conflict("You have a shift open at another window. Close it first.", field="window")


async def current_shift(seller_id: int) -> dict | None:
    """The seller's shift that is not closed (open or in review), with its window's name."""
    return (
        await Shift.select(*Shift.all_columns(), Shift.window.name)
        .where((Shift.seller == seller_id) & (Shift.status != CLOSED))
        .first()
    )


async def get_shift(shift_id: int) -> dict:
    row = await Shift.select(*Shift.all_columns(), Shift.window.name).where(Shift.id == shift_id).first()
    if row is None:
        raise NotFound("No such shift.")
    row["notes"] = {int(k): v for k, v in json.loads(row["notes"] or "{}").items()}
    return row


def variances(shift: dict) -> list[Variance]:
    """Expected against counted per method, for a shift that has been counted."""
    if shift["counted_at"] is None:
        return []
    return [
        Variance("cash", shift["expected_cash_fen"], shift["cash_counted_fen"]),
        Variance("card", shift["expected_card_fen"], shift["card_slip_fen"]),
        Variance("mobile", shift["expected_mobile_fen"], shift["mobile_slip_fen"]),
    ]


def parse_count(pieces: dict[int, int]) -> int:
    """The cash in the drawer from pieces per denomination (fen value -> count). Refuses unknown
    denominations and counts below 0 or above MAX_PIECES."""
    total = 0
    for value, count in pieces.items():
        if value not in DENOMINATIONS:
            raise InvalidInput("No such note or coin.", field="notes")
        if not 0 <= count <= MAX_PIECES:
            raise InvalidInput("Count each note or coin as a whole number from 0 to 100000.", field=f"n{value}")
        total += value * count
    return total


async def count_shift(
    actor: Actor,
    shift_id: int,
    pieces: dict[int, int],
    card_slip_fen: int,
    mobile_slip_fen: int,
    now: dt.datetime | None = None,
) -> dict:
    """The seller's blind count. Computes the expected amounts after the count is recorded; closes the shift
    when every variance is within the tolerance, else puts it in review. Returns the shift."""
    now = now or utcnow()
    cash = parse_count(pieces)
    for name, value in (("card_slip", card_slip_fen), ("mobile_slip", mobile_slip_fen)):
        if not 0 <= value <= MAX_SLIP_FEN:
            raise InvalidInput("Enter the slip's total in yuan, 0 or more.", field=name)
    async with queued_write(_db()):
        shift = await get_shift(shift_id)
        if shift["seller"] != actor.user_id:
            raise PermissionDenied("Only the seller of a shift counts it.")
        tolerance = (await ledger.policy())["variance_tolerance_fen"]
        # Claim the shift first: a payment attaching at this moment waits for this row and then finds it
        # no longer open; one that attached earlier is committed and counted below.
        claimed = (
            await Shift.update(
                {
                    Shift.status: REVIEW,
                    Shift.counted_at: now,
                    Shift.notes: json.dumps({str(k): v for k, v in sorted(pieces.items()) if v}),
                    Shift.cash_counted_fen: cash,
                    Shift.card_slip_fen: card_slip_fen,
                    Shift.mobile_slip_fen: mobile_slip_fen,
                    Shift.tolerance_fen: tolerance,
                }
            )
            .where((Shift.id == shift_id) & (Shift.status == OPEN))
            .returning(Shift.id)
        )
        if not claimed:
            raise Conflict("This shift is counted already.")
        totals = await ledger.shift_totals(shift_id)
        expected = {
            Shift.expected_cash_fen: shift["float_fen"] + totals["cash"],
            Shift.expected_card_fen: totals["card"],
            Shift.expected_mobile_fen: totals["mobile"],
        }
        await Shift.update(expected).where(Shift.id == shift_id)
        shift = await get_shift(shift_id)
        over = [v for v in variances(shift) if abs(v.difference_fen) > tolerance]
        if not over:
            await Shift.update({Shift.status: CLOSED, Shift.closed_at: now}).where(Shift.id == shift_id)
        await record(
            actor,
            "shift.count",
            "shift",
            shift_id,
            after={
                "status": REVIEW if over else CLOSED,
                **{f"{v.method}_difference_fen": v.difference_fen for v in variances(shift)},
            },
        )
    return await get_shift(shift_id)


async def explain(actor: Actor, shift_id: int, explanation: str) -> None:
    """The seller's written explanation of a variance over the tolerance."""
    explanation = explanation.strip()
    if not explanation:
        raise InvalidInput("Write what happened: the variance needs an explanation.", field="explanation")
    if len(explanation) > 2000:
        raise InvalidInput("Keep the explanation under 2000 characters.", field="explanation")
    async with queued_write(_db()):
        shift = await get_shift(shift_id)
        if shift["seller"] != actor.user_id:
            raise PermissionDenied("Only the seller of a shift explains its variance.")
        won = (
            await Shift.update({Shift.explanation: explanation})
            .where((Shift.id == shift_id) & (Shift.status == REVIEW))
            .returning(Shift.id)
        )
        if not won:
            raise Conflict("This shift does not wait for an explanation.")
        await record(actor, "shift.explain", "shift", shift_id, after={"explanation": explanation})


async def sign_off(actor: Actor, shift_id: int, note: str, now: dt.datetime | None = None) -> None:
    """A supervisor signs off a variance over the tolerance, closing the shift; never the shift's seller."""
    now = now or utcnow()
    if not role_allows(actor.role, Permission.FINANCE_SIGNOFF):
        raise PermissionDenied("Only a supervisor signs off a shift's variance.")
    async with queued_write(_db()):
        shift = await get_shift(shift_id)
        if shift["seller"] == actor.user_id:
            raise PermissionDenied("You cannot sign off your own shift: another supervisor must.")
        if shift["status"] != REVIEW:
            raise Conflict("This shift does not wait for a sign-off.")
        if not shift["explanation"]:
            raise Conflict("The seller has not explained the variance yet.")
        won = (
            await Shift.update(
                {
                    Shift.status: CLOSED,
                    Shift.closed_at: now,
                    Shift.signed_off_by: actor.user_id,
                    Shift.signed_off_name: actor.name,
                    Shift.signed_off_note: note.strip()[:2000],
                }
            )
            .where((Shift.id == shift_id) & (Shift.status == REVIEW))
            .returning(Shift.id)
        )
        if not won:
            raise Conflict("This shift does not wait for a sign-off.")
        await record(actor, "shift.sign_off", "shift", shift_id, after={"note": note.strip()[:2000]})


def morning_cut(now: dt.datetime) -> dt.datetime:
    """The start of today at the venue, in UTC: a shift opened before it and not closed is overdue."""
    local = now.astimezone(VENUE_TIMEZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


async def flag_unclosed(now: dt.datetime | None = None) -> int:
    """Flag every shift opened before today (venue time) and still not closed; audited once each. Returns
    how many were flagged now (the periodic job)."""
    now = now or utcnow()
    async with queued_write(_db()):
        flagged = (
            await Shift.update({Shift.flagged_at: now})
            .where((Shift.status != CLOSED) & (Shift.opened_at < morning_cut(now)) & Shift.flagged_at.is_null())
            .returning(Shift.id, Shift.seller_name)
        )
        for row in flagged:
            await record(Actor.system("shift check"), "shift.flag", "shift", row["id"], summary=row["seller_name"])
    return len(flagged)


async def shifts(limit: int = 100) -> list[dict]:
    """The newest shifts first, with the window's name (the supervisor's page)."""
    return await Shift.select(*Shift.all_columns(), Shift.window.name).order_by(Shift.id, ascending=False).limit(limit)


async def set_policy(actor: Actor, tolerance_fen: int, shift_required: bool, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if not 0 <= tolerance_fen <= MAX_FLOAT_FEN:
        raise InvalidInput("Enter the tolerance in yuan, 0 or more.", field="tolerance")
    async with queued_write(_db()):
        before = await ledger.policy()
        await FinancePolicy.insert(
            FinancePolicy(
                variance_tolerance_fen=tolerance_fen, shift_required=shift_required, set_at=now, set_by=actor.name
            )
        )
        await record(
            actor,
            "finance.policy",
            "finance_policy",
            summary="shift tolerance",
            before={k: before[k] for k in ("variance_tolerance_fen", "shift_required")},
            after={"variance_tolerance_fen": tolerance_fen, "shift_required": shift_required},
        )
