"""Stock holds (R1.2): general-admission quota and seats, taken and given back with conditional UPDATEs
so that no concurrency can oversell or double-hold, on SQLite and PostgreSQL alike.

Every function here runs inside the caller's write transaction."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from functools import reduce
from operator import or_

from piccolo.query.functions.aggregate import Count, Min

from db.audit.record import record
from db.catalog.tables import PriceClass, SessionSeat
from db.core.actor import Actor
from db.core.engine import engine_name
from db.core.errors import Conflict
from db.inventory.tables import Allocation
from db.sales.history import add_event
from db.sales.ordering.seating import PlanSeat, best_window
from db.sales.status import EXPIRED, EXPIRING, TICKET_ISSUED
from db.sales.tables import Order, OrderItem, Ticket

SYSTEM = Actor.system("hold-expiry")


async def hold_quota(price_class_id: int, quantity: int) -> bool:
    """Take `quantity` general-admission tickets of a class; False (nothing taken) if fewer are left."""
    taken = (
        await PriceClass.update({PriceClass.available: PriceClass.available - quantity})
        .where((PriceClass.id == price_class_id) & (PriceClass.available >= quantity))
        .returning(PriceClass.id)
    )
    return bool(taken)


async def give_back_quota(price_class_id: int, quantity: int) -> None:
    await PriceClass.update({PriceClass.available: PriceClass.available + quantity}).where(
        PriceClass.id == price_class_id
    )


async def take(price_class_id: int, quantity: int, allocation_id: int | None, seated: bool) -> bool:
    """Take `quantity` from a class's stock: from its allocation `allocation_id` (if the class has allocations)
    and, for general admission, from the class's free count; False (nothing taken) if either has fewer left.
    Seats themselves are held by hold_seats; here they are only counted against their allocation.
    The allocation row is taken before the class row, on every path (no deadlock between them)."""
    if allocation_id is not None:
        taken = (
            await Allocation.update({Allocation.available: Allocation.available - quantity})
            .where((Allocation.id == allocation_id) & (Allocation.available >= quantity))
            .returning(Allocation.id)
        )
        if not taken:
            return False
    if seated or await hold_quota(price_class_id, quantity):
        return True
    if allocation_id is not None:
        await _give_back_share(price_class_id, quantity, allocation_id)
    return False


async def _give_back_share(price_class_id: int, quantity: int, allocation_id: int | None) -> None:
    """Back into its allocation; a line taken before the class had allocations goes back into the pool."""
    if allocation_id is not None:
        where = Allocation.id == allocation_id
    else:
        where = (Allocation.price_class == price_class_id) & (Allocation.channel == "pool")
    await Allocation.update({Allocation.available: Allocation.available + quantity}).where(where)


async def give_back(price_class_id: int, quantity: int, allocation_id: int | None, seated: bool) -> None:
    """Return what `take` took (seats: only their count; release_seats frees the seats)."""
    await _give_back_share(price_class_id, quantity, allocation_id)
    if not seated:
        await give_back_quota(price_class_id, quantity)


async def free_stock(price_class_id: int, seated: bool) -> int:
    """What a class has free to sell: its general-admission count, or its free seats."""
    if seated:
        row = await SessionSeat.select(Count(SessionSeat.id, alias="n")).where(
            (SessionSeat.price_class == price_class_id) & (SessionSeat.status == "free")
        )
        return row[0]["n"]
    row = await PriceClass.select(PriceClass.available).where(PriceClass.id == price_class_id).first()
    return row["available"] if row else 0


async def add_stock(price_class_id: int, quantity: int, seated: bool) -> None:
    """New stock for a class (replenishment from the promoter or a supplier): capacity and, for general
    admission, the free count grow; the caller puts the quantity into an allocation."""
    grow = {PriceClass.capacity: PriceClass.capacity + quantity}
    if not seated:
        grow[PriceClass.available] = PriceClass.available + quantity
    await PriceClass.update(grow).where(PriceClass.id == price_class_id)


async def give_back_lines(lines: list[dict]) -> None:
    """Give back order lines' stock to their allocations and classes (`lines`: price_class, seat, quantity,
    allocation); release_seats / the refund free the seats themselves."""
    groups: dict[tuple[int, int | None, bool], int] = {}
    for line in lines:
        key = (line["price_class"], line["allocation"], line["seat"] is not None)
        groups[key] = groups.get(key, 0) + line["quantity"]
    for (price_class_id, allocation_id, seated), quantity in sorted(groups.items(), key=lambda g: str(g[0])):
        await give_back(price_class_id, quantity, allocation_id, seated)


async def give_back_tickets(ticket_ids: list[int]) -> None:
    """Put tickets back on sale (a refund, an exchange's old tickets, a chunk of a bulk cancellation): their seats
    become free and their quota goes back into the allocations their order lines drew from and into the class,
    in a few set-based statements (one per seat session, allocation and class, not per ticket). Call it in the
    transaction that revoked them.

    A seat goes back into its own line's allocation. General-admission tickets of an order and class whose
    lines drew on several allocations (a share, then the pool: allocations.draws) go back to the last-drawn line
    first; which tickets are gone is counted from the order's tickets still issued."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    tickets = await Ticket.select(Ticket.order, Ticket.session, Ticket.price_class, Ticket.seat).where(
        Ticket.id.is_in(ids)
    )
    orders = sorted({t["order"] for t in tickets})
    seats: dict[int, list[int]] = {}
    for t in tickets:
        if t["seat"] is not None:
            seats.setdefault(t["session"], []).append(t["seat"])
    for session_id, seat_ids in sorted(seats.items()):
        await SessionSeat.update(
            {SessionSeat.status: "free", SessionSeat.hold_ref: None, SessionSeat.held_until: None}
        ).where((SessionSeat.session == session_id) & SessionSeat.seat.is_in(seat_ids) & (SessionSeat.status == "sold"))
    lines = (
        await OrderItem.select(
            OrderItem.order, OrderItem.price_class, OrderItem.seat, OrderItem.quantity, OrderItem.allocation
        )
        .where(OrderItem.order.is_in(orders))
        .order_by(OrderItem.id)
    )
    kept_rows = (
        await Ticket.select(Ticket.order, Ticket.price_class, Count(Ticket.id, alias="n"))
        .where(
            Ticket.order.is_in(orders)
            & Ticket.seat.is_null()
            & (Ticket.status == TICKET_ISSUED)
            & Ticket.id.not_in(ids)
        )
        .group_by(Ticket.order, Ticket.price_class)
    )
    kept = {(r["order"], r["price_class"]): r["n"] for r in kept_rows}
    back = Counter((t["order"], t["price_class"]) for t in tickets if t["seat"] is None)
    by_seat = {(ln["order"], ln["seat"]): ln for ln in lines if ln["seat"] is not None}
    returned = [
        {**by_seat[(t["order"], t["seat"])], "quantity": 1}
        for t in tickets
        if t["seat"] is not None and (t["order"], t["seat"]) in by_seat
    ]
    for (order_id, price_class_id), n in sorted(back.items()):
        ga = [
            ln for ln in lines if ln["order"] == order_id and ln["price_class"] == price_class_id and ln["seat"] is None
        ]
        returned += _last_drawn(ga, kept.get((order_id, price_class_id), 0), n)
    await give_back_lines(returned)


def _last_drawn(lines: list[dict], kept: int, n: int) -> list[dict]:
    """`n` tickets given back of general-admission lines (in the order they drew) whose first `kept` tickets are
    still issued: the parts of the lines that tickets kept + 1 ... kept + n came from."""
    out, start = [], 0
    for line in lines:
        end = start + line["quantity"]
        part = max(0, min(end, kept + n) - max(start, kept))
        if part:
            out.append({**line, "quantity": part})
        start = end
    return out


async def hold_seats(session_id: int, seat_ids: list[int], hold_ref: str, until: dt.datetime | None) -> bool:
    """Hold exactly these free seats for `hold_ref`; if any is not free, hold none of them."""
    taken = (
        await SessionSeat.update(
            {SessionSeat.status: "held", SessionSeat.hold_ref: hold_ref, SessionSeat.held_until: until}
        )
        .where(
            (SessionSeat.session == session_id)
            & SessionSeat.seat.is_in(sorted(seat_ids))
            & (SessionSeat.status == "free")
        )
        .returning(SessionSeat.seat)
    )
    if len(taken) == len(set(seat_ids)):
        return True
    if taken:
        await release_seats(hold_ref)
    return False


ROWS_READ = 8  # rows of seats read at a time, front rows first


async def best_free_seats(
    session_id: int, price_class_id: int, n: int, allowed: Callable[[int], bool] | None = None
) -> list[int] | None:
    """Ids of the best `n` adjacent free seats of a class (seating.best_window: front rows, then the middle of
    the row) among those `allowed` (every free seat by default); None if no row has room. One grouped query
    finds the rows with `n` free seats; then only the seats of the front-most of them are read, ROWS_READ rows
    at a time, until no row left can beat the best found (a 50,000-seat stadium reads a few rows, issue 15)."""
    of_class = (SessionSeat.session == session_id) & (SessionSeat.price_class == price_class_id)
    rows = (
        await SessionSeat.select(
            SessionSeat.seat.section.as_alias("section"),
            SessionSeat.seat.row_label.as_alias("row"),
            Min(SessionSeat.seat.y, alias="y"),
            Min(SessionSeat.seat, alias="first"),
            Count(SessionSeat.id, alias="free"),
        )
        .where(of_class & (SessionSeat.status == "free"))
        .group_by(SessionSeat.seat.section, SessionSeat.seat.row_label)
    )
    roomy = sorted((r["y"], r["first"], r["section"], r["row"]) for r in rows if r["free"] >= n)
    section, row = SessionSeat.seat.section, SessionSeat.seat.row_label
    best = None
    for start in range(0, len(roomy), ROWS_READ):
        batch = roomy[start : start + ROWS_READ]
        if best is not None and batch[0][0] > best[0][0]:
            break  # a row's seats are no further front than its front seat: none left can do better
        in_rows = reduce(or_, [(section == s) & (row == r) for *_, s, r in batch])
        seats = (
            await SessionSeat.select(
                SessionSeat.seat,
                SessionSeat.status,
                SessionSeat.seat.section,
                SessionSeat.seat.row_label,
                SessionSeat.seat.x,
                SessionSeat.seat.y,
            )
            .where(of_class & in_rows)
            .order_by(SessionSeat.seat)
        )
        found = best_window(
            (
                PlanSeat(
                    r["seat"], r["seat.section"], r["seat.row_label"], r["seat.x"], r["seat.y"],
                    r["status"] == "free" and (allowed is None or allowed(r["seat"])),
                )
                for r in seats
            ),
            n,
        )  # fmt: skip
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best[1] if best else None


async def hold_best_seats(
    session_id: int,
    price_class_id: int,
    n: int,
    hold_ref: str,
    until: dt.datetime | None,
    allowed: Callable[[int], bool] | None = None,
) -> list[int]:
    """Hold `n` adjacent free seats of a class (best row first) for a group, among the seats this sale may take
    (`allowed`: a seat block's rule, allocations.may_sell_seat); Conflict if no row has room."""
    for _attempt in range(3):
        picked = await best_free_seats(session_id, price_class_id, n, allowed)
        if picked is None:
            raise Conflict("No row has {n} free seats together in this class.", field="items", n=n)
        if await hold_seats(session_id, picked, hold_ref, until):
            return picked
    raise Conflict("A seat was just taken by another sale. Choose again.", field="items")


async def release_seats(hold_ref: str) -> None:
    await SessionSeat.update(
        {SessionSeat.status: "free", SessionSeat.hold_ref: None, SessionSeat.held_until: None}
    ).where((SessionSeat.hold_ref == hold_ref) & (SessionSeat.status == "held"))


async def release_order_stock(order_id: int, code: str) -> None:
    """Give back everything an order holds: its seats and its general-admission quota."""
    await release_seats(code)
    lines = await OrderItem.select(
        OrderItem.price_class, OrderItem.seat, OrderItem.quantity, OrderItem.allocation
    ).where(OrderItem.order == order_id)
    await give_back_lines(lines)


async def release_expired(now: dt.datetime, session_id: int | None = None) -> int:
    """Expire the orders whose hold ran out (of one session, or all) and give their stock back.
    Concurrent callers cannot expire an order twice: the status change is conditional."""
    condition = Order.status.is_in(list(EXPIRING)) & (Order.expires_at < now)
    if session_id is not None:
        condition &= Order.session == session_id
    expired = await Order.update({Order.status: EXPIRED}).where(condition).returning(Order.id, Order.code)
    for order in expired:
        await release_order_stock(order["id"], order["code"])
        await add_event(order["id"], EXPIRED, SYSTEM, now, "hold expired")
        await record(SYSTEM, "order.expire", "order", order["code"])
    return len(expired)


async def lock_places(seats: dict[int, list[int]], price_class_ids: list[int]) -> None:
    """PostgreSQL: lock these seats ({session: [seat ids]}) and then these price classes, each in id order, before
    an operation that gives some of them back and takes others (an exchange). Two such operations on the same
    rows (a seat swap) then queue one behind the other instead of deadlocking. SQLite's immediate write
    transaction already serialises every writer."""
    if engine_name(SessionSeat._meta.db) != "postgresql":
        return
    condition = None
    for session_id, seat_ids in sorted(seats.items()):
        if seat_ids:
            part = (SessionSeat.session == session_id) & SessionSeat.seat.is_in(sorted(set(seat_ids)))
            condition = part if condition is None else condition | part
    if condition is not None:
        await SessionSeat.select(SessionSeat.id).where(condition).order_by(SessionSeat.id).lock_rows()
    if price_class_ids:
        classes = sorted(set(price_class_ids))
        await PriceClass.select(PriceClass.id).where(PriceClass.id.is_in(classes)).order_by(PriceClass.id).lock_rows()
