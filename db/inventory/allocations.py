"""Channel allocations (R4.3): a price class's stock shared out to channels, named outlets and partners; the rest
is the open pool.

- A sale draws from its own allocation: a partner's (partner channel, that partner), else a named outlet's
  (its channel and outlet name), else its channel's; with none of its own it draws on the pool. When its own
  allocation runs out it draws on the pool only if the allocation's `may_use_pool` says so. `attempts` is that
  rule, used by the careful path and the PostgreSQL fast path alike (db/sales/ordering/orders.py, rush.py).
- Stock is taken with conditional UPDATEs on the allocation row and the class row (db/inventory/stock.py take):
  no oversell of an allocation or of the class, on both engines.
- An allocation is made from the pool's free stock (never larger than it: refused); moving stock between
  allocations is a request and an approval by a second person; only free stock moves (held or sold never:
  `available` counts neither). Every change of an allocation's size is an immutable ledger entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Sum

from db.audit.record import record
from db.catalog.tables import PriceClass
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory import stock
from db.inventory.tables import Allocation, AllocationEntry, AllocationMove
from db.sales.status import CHANNELS, HOLDING, PAID
from db.sales.tables import OrderItem, Partner

POOL = "pool"
HOLD_BACK = "hold_back"  # stock kept off sale (a hold-back that replenishment may release)
TARGETS = (*CHANNELS, HOLD_BACK)  # what an allocation can be made for
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
    now: dt.datetime | None = None,
) -> int:
    """Allocate `quantity` of a class's free stock (taken from the pool) to a channel, a named outlet or a
    partner. Refused when it is larger than the free stock, or the allocation already exists."""
    now = now or utcnow()
    quantity = _quantity(quantity)
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
                   "quantity": quantity, "may_use_pool": may_use_pool},
        )  # fmt: skip
    return allocation_id


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
