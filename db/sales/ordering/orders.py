"""Placing and deciding orders (R3.4 steps 2-3, R3.5, R3.6): one transaction per operation.

create_order holds stock with conditional UPDATEs (no oversell, no double-held seat) after releasing
expired holds; approve/reject/cancel move the order with a conditional status change."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from db.audit.record import entry, record
from db.catalog.tables import SessionSeat
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.transaction import queued_write
from db.inventory import promotions, realname
from db.inventory import stock as holds
from db.inventory.allocations import attempts, buyable, draws, may_sell_seat, seat_blocks, seat_draws
from db.inventory.realname import Holder
from db.sales.history import add_event, transition
from db.sales.ordering import rush
from db.sales.ordering.buyer import Buyer, clean_buyer, clean_id_check, mask_id
from db.sales.ordering.context import PriceClassState, SaleContext, sale_context
from db.sales.ordering.pricing import group_tier, unit_price
from db.sales.policy import channel_policy, concession_rules
from db.sales.rows import event_row, item_row
from db.sales.status import (
    AWAITING_AUDIT,
    AWAITING_PAYMENT,
    CANCELLED,
    CHANNELS,
    HELD,
    HOLDING,
    REJECTED,
)
from db.sales.tables import Order, OrderItem
from db.staff.permissions import Permission, role_allows

MAX_TICKETS_PER_ORDER = 200
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class ItemRequest:
    """One line asked for: `seat_id` (a seat of a seated session), or `price_class_id` + `quantity`
    (general admission; for a seated class: the best N adjacent free seats). A concession line names
    its kind and the ID the seller checked."""

    price_class_id: int | None = None
    quantity: int = 0
    seat_id: int | None = None
    concession: str = ""
    id_type: str = ""
    id_number: str = ""


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: int
    code: str
    status: str
    total_fen: int
    expires_at: dt.datetime | None
    needs_audit: bool
    replayed: bool = False  # True when an Idempotency-Key matched an existing order


@dataclass
class _Line:
    price_class_id: int
    list_fen: int
    quantity: int
    seat_id: int | None = None
    best_of_class: bool = False  # seated class + quantity: seats picked in the transaction
    concession: str = ""
    id_type: str = ""
    id_masked: str = ""


def _item(
    order_id: int | None,
    line: _Line,
    seat: int | None,
    quantity: int,
    unit: int,
    breakdown: dict,
    allocation: int | None = None,
) -> dict:
    """The order line's row (db/sales/rows.py), the same on the careful path and the fast path."""
    return item_row(
        order_id,
        price_class=line.price_class_id,
        seat=seat,
        quantity=quantity,
        list_price_fen=line.list_fen,
        concession=line.concession,
        id_type=line.id_type,
        id_masked=line.id_masked,
        unit_price_fen=unit,
        breakdown=breakdown,
        allocation=allocation,
    )


def new_order_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


async def _resolve_lines(session_id: int, items: list[ItemRequest], classes: dict[int, PriceClassState]) -> list[_Line]:
    if not items:
        raise InvalidInput("Add at least one ticket to the order.", field="items")
    seat_ids = [i.seat_id for i in items if i.seat_id is not None]
    if len(set(seat_ids)) != len(seat_ids):
        raise InvalidInput("The same seat is in the order twice.", field="items")
    seat_classes = {}
    if seat_ids:
        rows = await SessionSeat.select(SessionSeat.seat, SessionSeat.price_class).where(
            (SessionSeat.session == session_id) & SessionSeat.seat.is_in(seat_ids)
        )
        seat_classes = {r["seat"]: r["price_class"] for r in rows}
    lines = []
    for item in items:
        if item.seat_id is not None:
            pc_id = seat_classes.get(item.seat_id)
            if pc_id is None:
                raise InvalidInput("Seat {seat} is not sold for this session.", field="items", seat=item.seat_id)
            line = _Line(pc_id, classes[pc_id].price_fen, 1, seat_id=item.seat_id)
        else:
            pc = classes.get(item.price_class_id)
            if pc is None:
                raise InvalidInput(
                    "Price class {price_class} is not sold for this session.",
                    field="items",
                    price_class=item.price_class_id,
                )
            if not 1 <= item.quantity <= MAX_TICKETS_PER_ORDER:
                raise InvalidInput(
                    "The quantity must be between 1 and {max}.", field="items", max=MAX_TICKETS_PER_ORDER
                )
            line = _Line(pc.id, pc.price_fen, item.quantity, best_of_class=bool(pc.seat_class))
        if item.concession:
            line.concession = item.concession.strip().lower()
            if item.id_type or item.id_number:
                line.id_type, line.id_masked = clean_id_check(item.id_type, item.id_number)
        lines.append(line)
    if sum(line.quantity for line in lines) > MAX_TICKETS_PER_ORDER:
        raise InvalidInput("The quantity must be between 1 and {max}.", field="items", max=MAX_TICKETS_PER_ORDER)
    return lines


def _wanted(lines: list[_Line]) -> dict[int, int]:
    """Tickets asked for, per price class (seats and general admission)."""
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.price_class_id] = wanted.get(line.price_class_id, 0) + line.quantity
    return wanted


def _cut(parts: list[list], quantity: int) -> list[tuple[int, int | None, int]]:
    """Cut a line's `quantity` tickets out of its class's draws not yet given to a line (`parts`: [allocation,
    tickets] each, used up in place): (draw index, allocation, tickets) per order line row."""
    out = []
    for index, part in enumerate(parts):
        n = min(part[1], quantity)
        if n > 0:
            out.append((index, part[0], n))
            part[1] -= n
            quantity -= n
    return out


async def _take_stock(
    context: SaleContext, plan: dict[int, list[tuple]], quota: dict[int, int], sale: tuple, rows_of: dict, blocks: set
) -> None:
    """Count the order's tickets against their allocations (each draw of `plan`, allocations.draws) and take
    the general-admission quota: seated classes first, the quota rows (the hot spot of an on-sale rush) last, so
    that their lock is held only until commit. A draw whose allocation ran out meanwhile goes to the pool where
    allowed, and its rows (`rows_of[(class, draw)]`) say so; a seat block's draw (`blocks`) only from the block."""
    for pc_id in sorted(plan, key=lambda pc: (pc in quota, pc)):
        shares = context.shares.get(pc_id, [])
        for index, (allocation, quantity) in enumerate(plan[pc_id]):
            tries = [allocation]
            if allocation not in blocks:
                tries += [a for a in attempts(shares, *sale, quantity) if a not in (allocation, *blocks)]
            for attempt in tries:
                if await holds.take(pc_id, quantity, attempt, seated=pc_id not in quota):
                    if attempt != allocation:
                        await OrderItem.update({OrderItem.allocation: attempt}).where(
                            OrderItem.id.is_in(rows_of[(pc_id, index)])
                        )
                    break
            else:
                wanted = sum(n for _, n in plan[pc_id])
                raise Conflict("Sold out: fewer than {n} tickets are left in this class.", field="items", n=wanted)


def _quota(lines: list[_Line]) -> dict[int, int]:
    """General-admission tickets asked for, per price class."""
    quota: dict[int, int] = {}
    for line in lines:
        if line.seat_id is None and not line.best_of_class:
            quota[line.price_class_id] = quota.get(line.price_class_id, 0) + line.quantity
    return quota


async def _existing(partner_id: int, idempotency_key: str) -> OrderSummary | None:
    row = (
        await Order.select(Order.id, Order.code, Order.status, Order.total_fen, Order.expires_at, Order.needs_audit)
        .where((Order.partner == partner_id) & (Order.idempotency_key == idempotency_key))
        .first()
    )
    return OrderSummary(**row, replayed=True) if row else None


def _is_idempotency_clash(exc: Exception) -> bool:
    return "idempotency_key" in str(exc) and ("unique" in str(exc).lower() or "duplicate" in str(exc).lower())


async def create_order(
    actor: Actor,
    *,
    session_id: int,
    channel: str,
    buyer: Buyer,
    items: list[ItemRequest],
    outlet: str = "",
    partner_id: int | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
    holders: Sequence[Holder] = (),
    promotion_id: int | None = None,
    bundle: tuple[int, int] | None = None,
) -> OrderSummary:
    """Place an order and hold its stock. Audit is needed when the channel says so, for group orders and
    for concession orders; otherwise the order is `held` until `expires_at`. Raises InvalidInput (422),
    NotFound (404, no session), Conflict (409: sold out, seat taken, not on sale).

    Inventory (issue 13): a real-name session needs one holder per ticket (db/inventory/realname.py); a
    promotion prices its classes and uses its limit (db/inventory/promotions.py); `bundle` (bundle id, the
    price share of one ticket) prices every ticket at its share of a bundle sold by promotions.sell_bundle."""
    now = now or utcnow()
    if channel not in CHANNELS:
        raise InvalidInput("Unknown sales channel: {channel}", field="channel", channel=channel)
    if idempotency_key is not None and (partner_id is None or not 1 <= len(idempotency_key) <= 100):
        raise InvalidInput("The Idempotency-Key must be 1 to 100 characters.", field="Idempotency-Key")
    context = await sale_context(session_id, channel, now)
    buyer = clean_buyer(buyer, context.buyer_details)
    lines = await _resolve_lines(session_id, items, context.classes)
    rules = await concession_rules({line.concession for line in lines if line.concession})
    for line in lines:
        if line.concession and rules[line.concession].requires_id and not line.id_masked:
            raise InvalidInput("Record the ID you checked before the concession price applies.", field="items")
    size = sum(line.quantity for line in lines)
    if context.realname:
        holders = realname.clean_holders(holders, size)
    offer = await promotions.offer(promotion_id, session_id, channel, now) if promotion_id is not None else None
    quota, wanted = _quota(lines), _wanted(lines)
    sale = (channel, outlet, partner_id)
    if not context.expired_holds:
        for pc_id, quantity in wanted.items():
            free = context.classes[pc_id].available if pc_id in quota else MAX_TICKETS_PER_ORDER
            if buyable(context.shares.get(pc_id, []), *sale, free) < quantity:  # refuse before writing anything
                if idempotency_key is not None and (existing := await _existing(partner_id, idempotency_key)):
                    return existing  # a retry of an order that took the last tickets
                raise Conflict("Sold out: fewer than {n} tickets are left in this class.", field="items", n=quantity)
    tier = group_tier(size, context.tiers)
    percent_off = tier.percent_off if tier else 0
    hold_minutes = context.hold_minutes
    needs_audit = context.needs_audit or tier is not None or bool(rules)
    status = AWAITING_AUDIT if needs_audit else HELD
    expires_at = None if needs_audit else now + dt.timedelta(minutes=hold_minutes)
    priced = []
    for line in lines:
        promotion = (offer.id, offer.rule) if offer and offer.covers(line.price_class_id) else None
        unit, breakdown = unit_price(line.list_fen, rules.get(line.concession), percent_off, promotion)
        if bundle is not None:
            unit, breakdown = bundle[1], {"list_fen": line.list_fen, "bundle": bundle[0]}
        priced.append((line, unit, breakdown))
    subtotal = sum(line.list_fen * line.quantity for line in lines)
    total = sum(unit * line.quantity for line, unit, _ in priced)
    code = new_order_code()
    order_values = dict(
        code=code,
        session=session_id,
        channel=channel,
        status=status,
        buyer_name=buyer.name,
        buyer_phone=buyer.phone,
        buyer_email=buyer.email,
        buyer_id_masked=mask_id(buyer.id_number),
        total_fen=total,
        subtotal_fen=subtotal,
        seller=actor.user_id,
        outlet=outlet,
        partner=partner_id,
        idempotency_key=idempotency_key,
        needs_audit=needs_audit,
        group_size=size if tier else 0,
        group_percent_off=percent_off,
        created_at=now,
        expires_at=expires_at,
    )
    audit_after = {"channel": channel, "session": session_id, "tickets": size, "total_fen": total, "status": status}
    try:
        plain = not context.realname and offer is None and bundle is None
        one_draw = all(len(draws(context.shares.get(pc, []), *sale, n)) == 1 for pc, n in wanted.items())
        if plain and one_draw and len(priced) == 1 and len(quota) == 1 and not context.expired_holds and rush.enabled():
            line, unit, breakdown = priced[0]
            order_id = None
            for allocation in attempts(context.shares.get(line.price_class_id, []), *sale, line.quantity):
                order_id = await rush.place_order(
                    actor,
                    order=order_values,
                    item=_item(None, line, None, line.quantity, unit, breakdown, allocation),
                    event=event_row(None, status, actor, now),
                    audit=entry(actor, "order.create", "order", code, after=audit_after),
                )
                if order_id is not None:
                    break
            if order_id is None:
                # A retry racing its own first attempt for the last tickets: the attempt that took them is the answer.
                if idempotency_key is not None and (existing := await _existing(partner_id, idempotency_key)):
                    return existing
                raise Conflict(
                    "Sold out: fewer than {n} tickets are left in this class.", field="items", n=line.quantity
                )
            return OrderSummary(order_id, code, status, total, expires_at, needs_audit)
        async with queued_write(Order._meta.db):
            if context.expired_holds:
                await holds.release_expired(now, session_id)
            order_id = (await Order.insert(Order(**order_values)).returning(Order.id))[0]["id"]
            blocks = (
                await seat_blocks(session_id) if any(context.shares.get(pc) for pc in wanted if pc not in quota) else {}
            )
            seats_of = []
            for line, _unit, _breakdown in priced:
                seats = [line.seat_id] if line.seat_id is not None else []
                if line.best_of_class:
                    allowed = may_sell_seat(context.shares.get(line.price_class_id, []), blocks, *sale)
                    seats = await holds.hold_best_seats(
                        session_id, line.price_class_id, line.quantity, code, expires_at, allowed
                    )
                seats_of.append(seats)
            plan, draw_of_seat = {}, {}
            for pc, n in wanted.items():
                if pc in quota:
                    plan[pc] = draws(context.shares.get(pc, []), *sale, n)
                    continue
                seats = [seat for (line, _, _), line_seats in zip(priced, seats_of, strict=True) for seat in line_seats
                         if line.price_class_id == pc]  # fmt: skip
                parts = seat_draws(context.shares.get(pc, []), blocks, *sale, seats)
                plan[pc] = [(allocation, len(part)) for allocation, part in parts]
                draw_of_seat |= {seat: index for index, (_, part) in enumerate(parts) for seat in part}
            if not all(plan.values()):
                raise Conflict("Sold out: fewer than {n} tickets are left in this class.", field="items", n=size)
            undrawn = {pc: [list(part) for part in parts] for pc, parts in plan.items()}
            rows, draw_of_row = [], []
            for (line, unit, breakdown), seats in zip(priced, seats_of, strict=True):
                pc = line.price_class_id
                for seat in seats:
                    index = draw_of_seat[seat]
                    rows.append(OrderItem(**_item(order_id, line, seat, 1, unit, breakdown, plan[pc][index][0])))
                    draw_of_row.append((pc, index))
                if not seats:
                    for index, allocation, n in _cut(undrawn[pc], line.quantity):
                        rows.append(OrderItem(**_item(order_id, line, None, n, unit, breakdown, allocation)))
                        draw_of_row.append((pc, index))
            created = await OrderItem.insert(*rows).returning(OrderItem.id, OrderItem.quantity)
            rows_of: dict[tuple[int, int], list[int]] = {}
            for row_id, draw in zip(sorted(r["id"] for r in created), draw_of_row, strict=True):
                rows_of.setdefault(draw, []).append(row_id)
            if context.realname:
                lines_made = [(r["id"], r["quantity"]) for r in sorted(created, key=lambda r: r["id"])]
                await realname.bind_holders(order_id, session_id, lines_made, holders, now)
            if offer is not None:
                await promotions.take(offer, sum(ln.quantity for ln, _, b in priced if "promotion" in b))
            await add_event(order_id, status, actor, now)
            await record(actor, "order.create", "order", code, after=audit_after)
            picked = [line.seat_id for line in lines if line.seat_id is not None]
            if picked and not await holds.hold_seats(session_id, picked, code, expires_at):
                raise Conflict("A seat you chose was just taken. Choose other seats.", field="items")
            await _take_stock(context, plan, quota, sale, rows_of, set(blocks.values()))
    except Exception as exc:
        if idempotency_key is not None and _is_idempotency_clash(exc):
            existing = await _existing(partner_id, idempotency_key)
            if existing:
                return existing
        raise
    return OrderSummary(order_id, code, status, total, expires_at, needs_audit)


async def replay_order(partner_id: int, idempotency_key: str) -> OrderSummary | None:
    """The order a partner already placed with this Idempotency-Key, if any."""
    return await _existing(partner_id, idempotency_key)


async def _order_for_update(code: str) -> dict:
    order = (
        await Order.select(
            Order.id, Order.code, Order.status, Order.channel, Order.seller, Order.session, Order.total_fen
        )
        .where(Order.code == code)
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def _require(actor: Actor, permission: Permission) -> None:
    if actor.role != "system" and not role_allows(actor.role, permission):
        raise PermissionDenied("Your role does not allow this. Ask a supervisor if you need it.")


async def approve_order(actor: Actor, code: str, note: str = "", now: dt.datetime | None = None) -> OrderSummary:
    """Auditor approves (R3.4 step 3): awaiting_audit -> awaiting_payment; the hold runs from now."""
    _require(actor, Permission.SALES_AUDIT)
    now = now or utcnow()
    async with queued_write(Order._meta.db):
        order = await _order_for_update(code)
        if order["seller"] is not None and order["seller"] == actor.user_id:
            raise PermissionDenied("You cannot audit an order you sold yourself.")
        _, hold_minutes = await channel_policy(order["channel"])
        expires_at = now + dt.timedelta(minutes=hold_minutes)
        values = {"audited_by": actor.user_id, "audited_at": now, "expires_at": expires_at}
        if not await transition(
            order["id"], [AWAITING_AUDIT], AWAITING_PAYMENT, actor, now, note.strip(), values=values
        ):
            raise Conflict("This order is not waiting for audit (it is {status}).", status=order["status"])
        await SessionSeat.update({SessionSeat.held_until: expires_at}).where(SessionSeat.hold_ref == code)
        await record(
            actor, "order.approve", "order", code, before={"status": AWAITING_AUDIT}, after={"status": AWAITING_PAYMENT}
        )
    return OrderSummary(order["id"], code, AWAITING_PAYMENT, order["total_fen"], expires_at, True)


async def reject_order(actor: Actor, code: str, reason: str, now: dt.datetime | None = None) -> None:
    """Auditor rejects with a reason: the stock goes back on sale."""
    _require(actor, Permission.SALES_AUDIT)
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Write the reason for the rejection; the seller and buyer will see it.", field="reason")
    async with queued_write(Order._meta.db):
        order = await _order_for_update(code)
        if order["seller"] is not None and order["seller"] == actor.user_id:
            raise PermissionDenied("You cannot audit an order you sold yourself.")
        values = {"audited_by": actor.user_id, "audited_at": now, "reject_reason": reason}
        if not await transition(order["id"], [AWAITING_AUDIT], REJECTED, actor, now, reason, values=values):
            raise Conflict("This order is not waiting for audit (it is {status}).", status=order["status"])
        await holds.release_order_stock(order["id"], code)
        await record(
            actor,
            "order.reject",
            "order",
            code,
            before={"status": AWAITING_AUDIT},
            after={"status": REJECTED, "reason": reason},
        )


async def cancel_order(actor: Actor, code: str, reason: str = "", now: dt.datetime | None = None) -> None:
    """Cancel an unpaid order (seller or buyer changed their mind): its stock goes back on sale."""
    now = now or utcnow()
    async with queued_write(Order._meta.db):
        order = await _order_for_update(code)
        if not await transition(order["id"], HOLDING, CANCELLED, actor, now, reason.strip()):
            raise Conflict("Only an unpaid order can be cancelled (this one is {status}).", status=order["status"])
        await holds.release_order_stock(order["id"], code)
        await record(
            actor, "order.cancel", "order", code, before={"status": order["status"]}, after={"status": CANCELLED}
        )


async def release_expired_holds(now: dt.datetime | None = None) -> int:
    """Expire every order whose hold ran out and put its stock back on sale (the periodic task)."""
    async with queued_write(Order._meta.db):
        return await holds.release_expired(now or utcnow())
