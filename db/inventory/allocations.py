"""Channel allocations (R4.3): a price class's stock shared out to channels, named outlets and partners; the rest
is the open pool.

- A sale draws from its own allocation: a partner's (partner channel, that partner), else a named outlet's
  (its channel and outlet name), else its channel's; with none of its own it draws on the pool. When its own
  allocation runs out it draws on the pool only if the allocation's `may_use_pool` says so, and a line larger
  than what is left of its share takes the rest from the pool (`draws`: share and pool in one order line, its
  rows one per allocation). `attempts` is the rule for a line from one allocation, used by the PostgreSQL fast
  path and exchanges (db/sales/ordering/orders.py, rush.py, aftersale/exchanges.py).
- Stock is taken with conditional UPDATEs on the allocation row and the class row (db/inventory/stock.py take):
  no oversell of an allocation or of the class, on both engines.
- An allocation is made from the pool's free stock (never larger than it: refused); moving stock between
  allocations is a request and an approval by a second person; only free stock moves (held or sold never:
  `available` counts neither). Every change of an allocation's size is an immutable ledger entry."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Sum

from db.audit.record import record
from db.catalog.tables import PriceClass, SessionSeat
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory import stock
from db.inventory.tables import Allocation, AllocationEntry, AllocationMove, AllocationSeat
from db.sales.status import CHANNELS, HOLDING, PAID
from db.sales.tables import OrderItem, Partner

POOL = "pool"
HOLD_BACK = "hold_back"  # stock kept off sale (a hold-back that replenishment may release)
TARGETS = (*CHANNELS, HOLD_BACK)  # what an allocation can be made for
# Whom stock is allocated to, as people read it (English msgids; web/labels.py STOCK_CHANNEL, the alert e-mail).
CHANNEL_NAMES = {
    POOL: "Open pool",
    HOLD_BACK: "Hold-back",
    "box_office": "Box office",
    "outlet": "Outlet",
    "web_shop": "Online shop",
    "partner": "Partner",
}
REQUESTED, APPROVED, REJECTED = "requested", "approved", "rejected"
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True, slots=True)
class Share:
    """An allocation as a sale sees it."""

    id: int
    price_class: int
    channel: str
    outlet: str
    partner: int | None
    available: int
    may_use_pool: bool


def own_share(shares: list[Share], channel: str, outlet: str, partner_id: int | None) -> Share | None:
    """The allocation a sale of this channel, outlet and partner draws from first, if it has one."""
    mine = [s for s in shares if s.channel == channel]
    for share in mine:
        if partner_id is not None and share.partner == partner_id:
            return share
    for share in mine:
        if outlet and share.partner is None and share.outlet == outlet:
            return share
    for share in mine:
        if share.partner is None and not share.outlet:
            return share
    return None


def pool_of(shares: list[Share]) -> Share | None:
    return next((s for s in shares if s.channel == POOL), None)


def attempts(shares: list[Share], channel: str, outlet: str, partner_id: int | None, quantity: int) -> list[int | None]:
    """The allocations a sale of `quantity` tries, in order: [None] when the class has no allocations (the
    class's own count decides); else its own allocation, then the pool where allowed; [] when none can serve."""
    if not shares:
        return [None]
    own, pool = own_share(shares, channel, outlet, partner_id), pool_of(shares)
    tries = []
    if own is not None:
        if own.available >= quantity:
            tries.append(own.id)
        if not own.may_use_pool:
            return tries or [own.id]  # the conditional UPDATE will refuse it: sold out for this channel
    if pool is not None:
        tries.append(pool.id)
    return tries


def draws(shares: list[Share], channel: str, outlet: str, partner_id: int | None, quantity: int) -> list[tuple]:
    """How a sale of `quantity` draws on a class's allocations, as (allocation, tickets) parts, from what they had
    free when read: [(None, n)] when the class has none; its own allocation, and what that lacks from the pool
    when its `may_use_pool` allows (the share and the pool in one order line); the pool when it has no
    allocation of its own; [] when none can serve. A part is taken conditionally (stock.take); a share that ran
    out meanwhile may still send its part to the pool (`attempts`)."""
    if not shares:
        return [(None, quantity)]
    own, pool = own_share(shares, channel, outlet, partner_id), pool_of(shares)
    if own is None:
        return [(pool.id, quantity)] if pool is not None else []
    if own.available >= quantity or not own.may_use_pool or pool is None:
        return [(own.id, quantity)]  # short: the conditional UPDATE refuses it
    if own.available <= 0:
        return [(pool.id, quantity)]
    return [(own.id, own.available), (pool.id, quantity - own.available)]


def seat_draws(
    shares: list[Share], blocks: dict[int, int], channel: str, outlet: str, partner_id: int | None, seats: list[int]
) -> list[tuple[int | None, list[int]]]:
    """Which allocation each seat of a seated class that a sale takes counts against, as (allocation, seats)
    draws: a seat of a block (`blocks`: seat -> allocation, seat_blocks) against that block, which only its own
    channel, outlet or partner sells (Conflict otherwise); the other seats as `draws` among the allocations
    that are not blocks (a block's channel takes them from the pool only where its `may_use_pool` allows)."""
    in_blocks = set(blocks.values())
    own = own_share(shares, channel, outlet, partner_id)
    by_block: dict[int, list[int]] = {}
    loose = []
    for seat in seats:
        if seat not in blocks:
            loose.append(seat)
        elif own is not None and blocks[seat] == own.id:
            by_block.setdefault(own.id, []).append(seat)
        else:
            raise Conflict("This seat is kept for another channel. Choose another seat.", field="items")
    out: list[tuple[int | None, list[int]]] = list(by_block.items())
    if loose:
        if own is not None and own.id in in_blocks and not own.may_use_pool:
            raise Conflict("This channel sells only the seats allocated to it. Choose one of them.", field="items")
        counted = [s for s in shares if s.id not in in_blocks]
        for allocation, n in draws(counted, channel, outlet, partner_id, len(loose)):
            out.append((allocation, loose[:n]))
            loose = loose[n:]
    return out


def may_sell_seat(shares: list[Share], blocks: dict[int, int], channel: str, outlet: str, partner_id: int | None):
    """A predicate: may this channel, outlet or partner take this seat of the class (seat_draws' rule)?"""
    own = own_share(shares, channel, outlet, partner_id)
    own_id = own.id if own is not None else None
    loose_too = own is None or own.id not in set(blocks.values()) or own.may_use_pool

    def allowed(seat: int) -> bool:
        return blocks[seat] == own_id if seat in blocks else loose_too

    return allowed


async def seat_blocks(session_id: int) -> dict[int, int]:
    """Every seat of a session's seat blocks: seat -> allocation."""
    rows = await AllocationSeat.select(AllocationSeat.seat, AllocationSeat.allocation).where(
        AllocationSeat.session == session_id
    )
    return {r["seat"]: r["allocation"] for r in rows}


def buyable(shares: list[Share], channel: str, outlet: str, partner_id: int | None, class_free: int) -> int:
    """How many tickets of a class this channel, outlet or partner can buy now."""
    if not shares:
        return class_free
    own, pool = own_share(shares, channel, outlet, partner_id), pool_of(shares)
    pool_free = pool.available if pool is not None else 0
    if own is None:
        mine = pool_free
    else:
        mine = own.available + (pool_free if own.may_use_pool else 0)
    return max(0, min(class_free, mine))


def _share(row: dict) -> Share:
    return Share(
        row["id"],
        row["price_class"],
        row["channel"],
        row["outlet"],
        row["partner"],
        row["available"],
        bool(row["may_use_pool"]),
    )


async def session_shares(session_id: int) -> dict[int, list[Share]]:
    """Every allocation of a session, per price class."""
    rows = await Allocation.select(
        Allocation.id,
        Allocation.price_class,
        Allocation.channel,
        Allocation.outlet,
        Allocation.partner,
        Allocation.available,
        Allocation.may_use_pool,
    ).where(Allocation.session == session_id)
    out: dict[int, list[Share]] = {}
    for row in rows:
        out.setdefault(row["price_class"], []).append(_share(row))
    return out


async def buyable_by_class(
    session_id: int, classes: list[dict], channel: str, outlet: str = "", partner_id: int | None = None
) -> dict[int, int]:
    """{price class id: what this buyer can buy} for the classes of availability() (their `free` counts)."""
    shares = await session_shares(session_id)
    return {c["id"]: buyable(shares.get(c["id"], []), channel, outlet, partner_id, c["free"]) for c in classes}


def ledger_entry(allocation_id: int, kind: str, delta: int, actor: Actor, now: dt.datetime, note: str, **ids) -> dict:
    return dict(
        allocation=allocation_id, at=now, kind=kind, delta=delta, actor_id=actor.user_id, actor_name=actor.name,
        note=note, **ids,
    )  # fmt: skip


async def write_entries(*entries: dict) -> None:
    await AllocationEntry.insert(*(AllocationEntry(**e) for e in entries))


async def price_class_facts(price_class_id: int) -> dict:
    row = (
        await PriceClass.select(PriceClass.id, PriceClass.session, PriceClass.seat_class, PriceClass.name)
        .where(PriceClass.id == price_class_id)
        .first()
    )
    if row is None:
        raise NotFound("No such price class.")
    return row


async def ensure_pool(price_class: dict, now: dt.datetime) -> int:
    """The class's pool allocation, made with all its free stock the first time (inside the write)."""
    pool = (
        await Allocation.select(Allocation.id)
        .where((Allocation.price_class == price_class["id"]) & (Allocation.channel == POOL))
        .first()
    )
    if pool is not None:
        return pool["id"]
    free = await stock.free_stock(price_class["id"], bool(price_class["seat_class"]))
    row = Allocation(
        session=price_class["session"], price_class=price_class["id"], channel=POOL, quantity=free, available=free,
        created_at=now,
    )  # fmt: skip
    return (await Allocation.insert(row).returning(Allocation.id))[0]["id"]


async def take_from(allocation_id: int, quantity: int) -> bool:
    """Take free stock out of an allocation (it then goes into another): False if fewer are free."""
    taken = (
        await Allocation.update(
            {Allocation.available: Allocation.available - quantity, Allocation.quantity: Allocation.quantity - quantity}
        )
        .where((Allocation.id == allocation_id) & (Allocation.available >= quantity))
        .returning(Allocation.id)
    )
    return bool(taken)


async def put_into(allocation_id: int, quantity: int) -> None:
    await Allocation.update(
        {Allocation.available: Allocation.available + quantity, Allocation.quantity: Allocation.quantity + quantity}
    ).where(Allocation.id == allocation_id)


def clean_line(value: str, *, field: str, maximum: int) -> str:
    """A one-line text field, stripped, at most `maximum` characters."""
    value = one_line((value or "").strip(), field)
    if len(value) > maximum:
        raise InvalidInput("Write at most {max} characters.", field=field, max=maximum)
    return value


def _quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput("Enter a whole number from {min} to {max}.", field="quantity", min=1, max=MAX_QUANTITY)
    return quantity


async def create_allocation(
    actor: Actor,
    price_class_id: int,
    channel: str,
    quantity: int,
    *,
    outlet: str = "",
    partner_id: int | None = None,
    may_use_pool: bool = False,
    seats: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> int:
    """Allocate `quantity` of a class's free stock (taken from the pool) to a channel, a named outlet or a
    partner; with `seats` (a seated class), exactly those seats as a seat block (`quantity` is their number).
    Refused when it is larger than the free stock, a seat is not free, of another class or in another block,
    or the allocation already exists."""
    now = now or utcnow()
    seats = sorted(set(seats))
    quantity = _quantity(len(seats) if seats else quantity)
    if channel not in TARGETS:
        raise InvalidInput("Unknown sales channel: {channel}", field="channel", channel=channel)
    outlet = clean_line(outlet, field="outlet", maximum=60) if outlet else ""
    if partner_id is not None:
        if channel != "partner":
            raise InvalidInput("A partner's allocation belongs to the partner channel.", field="partner")
        if not await Partner.exists().where(Partner.id == partner_id):
            raise NotFound("No such partner.")
    price_class = await price_class_facts(price_class_id)
    async with queued_write(Allocation._meta.db):
        pool_id = await ensure_pool(price_class, now)
        same = (
            (Allocation.price_class == price_class_id)
            & (Allocation.channel == channel)
            & (Allocation.outlet == outlet)
            & (Allocation.partner.is_null() if partner_id is None else Allocation.partner == partner_id)
        )
        if await Allocation.exists().where(same):
            raise Conflict("This allocation exists already: move stock into it instead.", field="channel")
        if seats:
            await _check_block(price_class, seats)
        if not await take_from(pool_id, quantity):
            free = (await Allocation.select(Allocation.available).where(Allocation.id == pool_id).first())["available"]
            raise Conflict(
                "Only {free} tickets are free in the pool; an allocation cannot be larger.", field="quantity", free=free
            )
        row = Allocation(
            session=price_class["session"], price_class=price_class_id, channel=channel, outlet=outlet,
            partner=partner_id, quantity=quantity, available=quantity, may_use_pool=may_use_pool, created_at=now,
        )  # fmt: skip
        allocation_id = (await Allocation.insert(row).returning(Allocation.id))[0]["id"]
        if seats:
            session_id = price_class["session"]
            await AllocationSeat.insert(
                *(AllocationSeat(allocation=allocation_id, session=session_id, seat=seat) for seat in seats)
            )
        note = f"{channel} {outlet}".strip()
        await write_entries(
            ledger_entry(pool_id, "move_out", -quantity, actor, now, note),
            ledger_entry(allocation_id, "create", quantity, actor, now, note),
        )
        await record(
            actor,
            "allocation.create",
            "allocation",
            allocation_id,
            after={"price_class": price_class_id, "channel": channel, "outlet": outlet, "partner": partner_id,
                   "quantity": quantity, "may_use_pool": may_use_pool, "seats": seats},
        )  # fmt: skip
    return allocation_id


async def _check_block(price_class: dict, seats: list[int]) -> None:
    """A seat block's seats: free seats of this seated class, in no other block."""
    if not price_class["seat_class"]:
        raise InvalidInput("Seat blocks are for seated classes; give general admission a quantity.", field="seats")
    session_id = price_class["session"]
    free = await SessionSeat.count().where(
        (SessionSeat.session == session_id)
        & (SessionSeat.price_class == price_class["id"])
        & SessionSeat.seat.is_in(seats)
        & (SessionSeat.status == "free")
    )
    if free != len(seats):
        raise Conflict(
            "{n} of these seats are not free seats of this class; a block is made of free seats.",
            field="seats", n=len(seats) - free,
        )  # fmt: skip
    if await AllocationSeat.exists().where((AllocationSeat.session == session_id) & AllocationSeat.seat.is_in(seats)):
        raise Conflict("A seat of these is in another block already.", field="seats")


async def row_range_seats(price_class_id: int, section: str, first_row: str, last_row: str) -> list[int]:
    """The seats of a seated class in one section from row `first_row` to `last_row` (numbers compare as
    numbers): a block as the page gives it. InvalidInput when there are none."""
    price_class = await price_class_facts(price_class_id)

    def key(label: str) -> tuple:
        return (0, int(label), "") if label.isdigit() else (1, 0, label)

    low, high = sorted((key(first_row.strip()), key(last_row.strip())))
    rows = await SessionSeat.select(SessionSeat.seat, SessionSeat.seat.row_label).where(
        (SessionSeat.session == price_class["session"])
        & (SessionSeat.price_class == price_class_id)
        & (SessionSeat.seat.section == section.strip())
    )
    seats = [r["seat"] for r in rows if low <= key(r["seat.row_label"]) <= high]
    if not seats:
        raise InvalidInput("No seat of this class is in that section and those rows.", field="seats")
    return seats


async def set_may_use_pool(actor: Actor, allocation_id: int, allowed: bool) -> None:
    """The setting: whether a sale of this allocation, once it runs out, draws on the pool."""
    async with queued_write(Allocation._meta.db):
        changed = (
            await Allocation.update({Allocation.may_use_pool: allowed})
            .where((Allocation.id == allocation_id) & (Allocation.channel != POOL))
            .returning(Allocation.id)
        )
        if not changed:
            raise NotFound("No such allocation.")
        await record(actor, "allocation.pool_setting", "allocation", allocation_id, after={"may_use_pool": allowed})


async def request_move(
    actor: Actor, source_id: int, target_id: int, quantity: int, reason: str, now: dt.datetime | None = None
) -> int:
    """Ask to move free stock between two allocations of one class; a second person approves it."""
    now = now or utcnow()
    quantity = _quantity(quantity)
    reason = clean_line(reason, field="reason", maximum=500)
    if not reason:
        raise InvalidInput("Write why the stock should move; the approver reads it.", field="reason")
    if source_id == target_id:
        raise InvalidInput("Choose two different allocations.", field="target")
    rows = await Allocation.select(Allocation.id, Allocation.price_class, Allocation.available).where(
        Allocation.id.is_in([source_id, target_id])
    )
    if len(rows) != 2 or rows[0]["price_class"] != rows[1]["price_class"]:
        raise InvalidInput("Stock moves between allocations of the same price class.", field="target")
    if await AllocationSeat.exists().where(AllocationSeat.allocation.is_in([source_id, target_id])):
        raise InvalidInput(
            "A seat block is given by its seats: make a new block instead of moving a count.", field="target"
        )
    source = next(r for r in rows if r["id"] == source_id)
    if source["available"] < quantity:
        raise Conflict(
            "Only {free} tickets of this allocation are free; held or sold tickets cannot be moved.",
            field="quantity",
            free=source["available"],
        )
    async with queued_write(AllocationMove._meta.db):
        row = AllocationMove(
            price_class=source["price_class"], source=source_id, target=target_id, quantity=quantity, reason=reason,
            requested_by=actor.user_id, requested_by_name=actor.name, requested_at=now,
        )  # fmt: skip
        move_id = (await AllocationMove.insert(row).returning(AllocationMove.id))[0]["id"]
        await record(
            actor, "allocation.move_request", "allocation_move", move_id,
            after={"source": source_id, "target": target_id, "quantity": quantity, "reason": reason},
        )  # fmt: skip
    return move_id


async def _pending_move(move_id: int, actor: Actor) -> dict:
    move = await AllocationMove.select().where(AllocationMove.id == move_id).first()
    if move is None:
        raise NotFound("No such stock move.")
    if move["status"] != REQUESTED:
        raise Conflict("This move was decided already ({status}).", status=move["status"])
    if move["requested_by"] is not None and move["requested_by"] == actor.user_id:
        raise PermissionDenied("A second person decides a stock move: you asked for this one.")
    return move


async def approve_move(actor: Actor, move_id: int, note: str = "", now: dt.datetime | None = None) -> None:
    """Carry out a requested move (a second person): only free stock moves; refused, nothing changed, when
    the source no longer has that much free."""
    now = now or utcnow()
    note = clean_line(note, field="note", maximum=500)
    async with queued_write(AllocationMove._meta.db):
        move = await _pending_move(move_id, actor)
        decided = (
            await AllocationMove.update(
                {
                    AllocationMove.status: APPROVED,
                    AllocationMove.decided_by: actor.user_id,
                    AllocationMove.decided_by_name: actor.name,
                    AllocationMove.decided_at: now,
                    AllocationMove.decision_note: note,
                }
            )
            .where((AllocationMove.id == move_id) & (AllocationMove.status == REQUESTED))
            .returning(AllocationMove.id)
        )
        if not decided:
            raise Conflict("This move was decided already.")
        if not await take_from(move["source"], move["quantity"]):
            raise Conflict("The source has fewer free tickets now; held or sold tickets cannot be moved.")
        await put_into(move["target"], move["quantity"])
        # The ledger says who asked and why, and who approved.
        asked = {"actor_id": move["requested_by"], "actor_name": move["requested_by_name"]}
        asked["approved_by_name"] = actor.name
        why, n = move["reason"], move["quantity"]
        await write_entries(
            ledger_entry(move["source"], "move_out", -n, actor, now, why, move_id=move_id) | asked,
            ledger_entry(move["target"], "move_in", n, actor, now, why, move_id=move_id) | asked,
        )
        await record(
            actor, "allocation.move_approve", "allocation_move", move_id,
            before={"status": REQUESTED}, after={"status": APPROVED, "note": note},
        )  # fmt: skip


async def reject_move(actor: Actor, move_id: int, note: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    note = clean_line(note, field="note", maximum=500)
    if not note:
        raise InvalidInput("Write why the move is rejected.", field="note")
    async with queued_write(AllocationMove._meta.db):
        await _pending_move(move_id, actor)
        await AllocationMove.update(
            {
                AllocationMove.status: REJECTED,
                AllocationMove.decided_by: actor.user_id,
                AllocationMove.decided_by_name: actor.name,
                AllocationMove.decided_at: now,
                AllocationMove.decision_note: note,
            }
        ).where((AllocationMove.id == move_id) & (AllocationMove.status == REQUESTED))
        await record(
            actor, "allocation.move_reject", "allocation_move", move_id,
            before={"status": REQUESTED}, after={"status": REJECTED, "note": note},
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ShareView:
    """An allocation with its figures, for the box office and the inventory pages."""

    id: int
    price_class: int
    price_class_name: str
    channel: str
    outlet: str
    partner: str
    quantity: int
    available: int
    held: int
    sold: int
    may_use_pool: bool
    block_seats: int = 0  # a seat block's number of seats (0: a quantity)


async def line_counts(session_id: int) -> dict[tuple[int | None, int, str], int]:
    """Tickets held and sold per (allocation, price class, 'held' | 'sold') of a session."""
    rows = (
        await OrderItem.select(
            OrderItem.allocation, OrderItem.price_class, OrderItem.order.status, Sum(OrderItem.quantity, alias="n")
        )
        .where((OrderItem.order.session == session_id) & OrderItem.order.status.is_in([*HOLDING, PAID]))
        .group_by(OrderItem.allocation, OrderItem.price_class, OrderItem.order.status)
    )
    out: dict[tuple[int | None, int, str], int] = {}
    for r in rows:
        key = (r["allocation"], r["price_class"], "sold" if r["order.status"] == PAID else "held")
        out[key] = out.get(key, 0) + (r["n"] or 0)
    return out


async def shares_view(session_id: int, counts: dict | None = None) -> list[ShareView]:
    """Each allocation of a session with what it was given, has free, holds and sold (the pool first);
    `counts`: line_counts(session_id) when the caller has them already."""
    rows = (
        await Allocation.select(
            Allocation.id,
            Allocation.price_class,
            Allocation.price_class.name,
            Allocation.channel,
            Allocation.outlet,
            Allocation.partner.name,
            Allocation.quantity,
            Allocation.available,
            Allocation.may_use_pool,
        )
        .where(Allocation.session == session_id)
        .order_by(Allocation.price_class)
        .order_by(Allocation.id)
    )
    counts = await line_counts(session_id) if counts is None else counts
    blocks = Counter((await seat_blocks(session_id)).values())
    return [
        ShareView(
            r["id"],
            r["price_class"],
            r["price_class.name"],
            r["channel"],
            r["outlet"],
            r["partner.name"] or "",
            r["quantity"],
            r["available"],
            counts.get((r["id"], r["price_class"], "held"), 0),
            counts.get((r["id"], r["price_class"], "sold"), 0),
            bool(r["may_use_pool"]),
            blocks.get(r["id"], 0),
        )  # fmt: skip
        for r in rows
    ]


async def moves(status: str | None = None, session_id: int | None = None) -> list[dict]:
    query = AllocationMove.select(
        *AllocationMove.all_columns(),
        AllocationMove.price_class.name,
        AllocationMove.price_class.session,
        AllocationMove.source.channel,
        AllocationMove.source.outlet,
        AllocationMove.source.partner.name,
        AllocationMove.target.channel,
        AllocationMove.target.outlet,
        AllocationMove.target.partner.name,
    ).order_by(AllocationMove.id, ascending=False)
    condition = None
    if status:
        condition = AllocationMove.status == status
    if session_id is not None:
        by_session = AllocationMove.price_class.session == session_id
        condition = by_session if condition is None else condition & by_session
    if condition is not None:
        query = query.where(condition)
    return await query.limit(200)


async def ledger(session_id: int) -> list[dict]:
    return (
        await AllocationEntry.select(
            *AllocationEntry.all_columns(),
            AllocationEntry.allocation.channel,
            AllocationEntry.allocation.outlet,
            AllocationEntry.allocation.partner.name,
            AllocationEntry.allocation.price_class.name,
        )
        .where(AllocationEntry.allocation.session == session_id)
        .order_by(AllocationEntry.id, ascending=False)
        .limit(500)
    )
