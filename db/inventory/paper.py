"""Paper ticket stock (R4.5): blank tickets received by serial range and category into a store, issued in
ranges to box-office windows, each printed paper ticket consuming one serial linked to its ticket; spoiled,
voided (stub kept) and lost serials recorded with a reason; unused ranges returned to the store.

Every serial is a row (its state is the truth) and every change a journal row (PaperMovement). The ledger
compares the two per category and location and always balances:
  store:  received = issued - returned + in store
  window: issued = printed + spoiled + voided + lost + returned + at the window
State changes are conditional UPDATEs (... WHERE state = 'at_window'), so two windows printing at once never
consume the same serial, and a range that is not wholly where it should be changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory.tables import PaperLocation, PaperMovement, PaperSerial
from db.sales.status import PAID, TICKET_ISSUED
from db.sales.tables import Order, Ticket
from db.staff.permissions import Permission, role_allows

MAX_RANGE = 100_000  # serials in one receive or issue
MAX_SERIAL = 2**31 - 1
LOCATION_KINDS = ("store", "window")
MARK_KINDS = {"spoil": "spoiled", "void": "voided", "lose": "lost"}
STATES = ("in_store", "at_window", "printed", "spoiled", "voided", "lost")
_CHUNK = 500


def require(actor: Actor, permission: Permission) -> None:
    if actor.role != "system" and not role_allows(actor.role, permission):
        raise PermissionDenied("Your role does not allow this. Ask a supervisor if you need it.")


def clean_category(category: str) -> str:
    category = (category or "").strip()
    if not 1 <= len(category) <= 20:
        raise InvalidInput("Enter the stock category (1 to 20 characters), e.g. 通用票纸.", field="category")
    return one_line(category, "category")


def check_range(first: int, last: int) -> int:
    if not 1 <= first <= last <= MAX_SERIAL:
        raise InvalidInput("The first serial must be at least 1 and not above the last.", field="first")
    if last - first + 1 > MAX_RANGE:
        raise InvalidInput("A range holds at most {max} serials; split it.", field="last", max=MAX_RANGE)
    return last - first + 1


async def _location(location_id: int, kind: str) -> dict:
    row = await PaperLocation.select().where(PaperLocation.id == location_id).first()
    if row is None or row["kind"] != kind:
        raise NotFound("No such storage location." if kind == "store" else "No such window.")
    return row


async def add_location(actor: Actor, name: str, kind: str) -> int:
    require(actor, Permission.INVENTORY_PAPER)
    name = one_line((name or "").strip(), "name")
    if not 1 <= len(name) <= 60:
        raise InvalidInput("Enter the location's name (1 to 60 characters).", field="name")
    if kind not in LOCATION_KINDS:
        raise InvalidInput("Choose a storage location or a window.", field="kind")
    async with queued_write(PaperLocation._meta.db):
        if await PaperLocation.exists().where(PaperLocation.name == name):
            raise Conflict("A location with this name exists already.", field="name")
        row = await PaperLocation.insert(PaperLocation(name=name, kind=kind)).returning(PaperLocation.id)
        await record(actor, "paper.location", "paper_location", row[0]["id"], after={"name": name, "kind": kind})
    return row[0]["id"]


async def locations(kind: str | None = None) -> list[dict]:
    query = PaperLocation.select().order_by(PaperLocation.kind).order_by(PaperLocation.name)
    return await (query.where(PaperLocation.kind == kind) if kind else query)


async def _journal(actor: Actor, now: dt.datetime, kind: str, category: str, runs: list[tuple[int, int]], **more):
    if runs:
        await PaperMovement.insert(
            *[
                PaperMovement(
                    at=now,
                    kind=kind,
                    category=category,
                    first_serial=first,
                    last_serial=last,
                    quantity=last - first + 1,
                    actor_id=actor.user_id,
                    actor_name=actor.name,
                    **more,
                )
                for first, last in runs
            ]
        )


def runs(serials: list[int]) -> list[tuple[int, int]]:
    """Sorted serials as inclusive (first, last) runs: 1,2,3,7 -> (1, 3), (7, 7)."""
    result: list[tuple[int, int]] = []
    for serial in sorted(serials):
        if result and serial == result[-1][1] + 1:
            result[-1] = (result[-1][0], serial)
        else:
            result.append((serial, serial))
    return result


def _range(category: str, first: int, last: int):
    return (PaperSerial.category == category) & (PaperSerial.serial >= first) & (PaperSerial.serial <= last)


def _overlap(category: str, first: int, last: int, exc: Exception | None = None) -> Conflict:
    return Conflict(
        "Serials {first}-{last} of {category} overlap stock already received; nothing was received.",
        field="first",
        first=first,
        last=last,
        category=category,
    )


async def receive(actor: Actor, category: str, first: int, last: int, store_id: int, note: str = "") -> int:
    """Blank stock delivered to a store. Overlapping an earlier range (of this category) is refused whole."""
    require(actor, Permission.INVENTORY_PAPER)
    category = clean_category(category)
    count = check_range(first, last)
    now = utcnow()
    async with queued_write(PaperSerial._meta.db):
        await _location(store_id, "store")
        if await PaperSerial.exists().where(_range(category, first, last)):
            raise _overlap(category, first, last)
        try:
            for start in range(first, last + 1, _CHUNK):
                await PaperSerial.insert(
                    *[
                        PaperSerial(category=category, serial=s, store=store_id, state="in_store", changed_at=now)
                        for s in range(start, min(start + _CHUNK, last + 1))
                    ]
                )
        except Exception as exc:  # the unique (category, serial) index: a concurrent receive of the same serials
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise _overlap(category, first, last) from exc
            raise
        await _journal(actor, now, "receive", category, [(first, last)], store=store_id, reason=note.strip())
        await record(
            actor, "paper.receive", "paper", f"{category}:{first}-{last}", after={"count": count, "store": store_id}
        )
    return count


async def issue(actor: Actor, category: str, first: int, last: int, store_id: int, window_id: int) -> int:
    """A range from a store to a window; every serial of it must be in that store, else nothing moves."""
    require(actor, Permission.INVENTORY_PAPER)
    category = clean_category(category)
    count = check_range(first, last)
    now = utcnow()
    async with queued_write(PaperSerial._meta.db):
        await _location(store_id, "store")
        await _location(window_id, "window")
        moved = (
            await PaperSerial.update(
                {PaperSerial.state: "at_window", PaperSerial.window: window_id, PaperSerial.changed_at: now}
            )
            .where(_range(category, first, last) & (PaperSerial.store == store_id) & (PaperSerial.state == "in_store"))
            .returning(PaperSerial.serial)
        )
        if len(moved) != count:
            raise Conflict(
                "Only {n} of serials {first}-{last} are in this store unissued; nothing was issued.",
                field="first",
                n=len(moved),
                first=first,
                last=last,
            )
        await _journal(actor, now, "issue", category, [(first, last)], store=store_id, window=window_id)
        await record(actor, "paper.issue", "paper", f"{category}:{first}-{last}", after={"window": window_id})
    return count


async def _by_store(category: str, serials: list[int]) -> dict[int, list[int]]:
    rows = await PaperSerial.select(PaperSerial.serial, PaperSerial.store).where(
        (PaperSerial.category == category) & PaperSerial.serial.is_in(serials)
    )
    grouped: dict[int, list[int]] = {}
    for r in rows:
        grouped.setdefault(r["store"], []).append(r["serial"])
    return grouped


async def return_range(actor: Actor, category: str, first: int, last: int, window_id: int, note: str = "") -> int:
    """Unused serials of a window back to their store; serials not at this window are left as they are and
    reported (a range with none of them at the window changes nothing)."""
    require(actor, Permission.INVENTORY_PAPER)
    category = clean_category(category)
    check_range(first, last)
    now = utcnow()
    async with queued_write(PaperSerial._meta.db):
        await _location(window_id, "window")
        moved = (
            await PaperSerial.update(
                {PaperSerial.state: "in_store", PaperSerial.window: None, PaperSerial.changed_at: now}
            )
            .where(
                _range(category, first, last) & (PaperSerial.window == window_id) & (PaperSerial.state == "at_window")
            )
            .returning(PaperSerial.serial)
        )
        if not moved:
            raise Conflict(
                "None of serials {first}-{last} are unused at this window.", field="first", first=first, last=last
            )
        serials = [r["serial"] for r in moved]
        for store, found in (await _by_store(category, serials)).items():
            await _journal(actor, now, "return", category, runs(found), store=store, window=window_id, reason=note)
        await record(actor, "paper.return", "paper", f"{category}:{first}-{last}", after={"count": len(serials)})
    return len(serials)


async def mark(actor: Actor, kind: str, category: str, first: int, last: int, window_id: int, reason: str) -> int:
    """Serials of a window spoiled (misprinted), voided (a printed ticket's stub is kept; its ticket may be
    printed again) or lost, with a reason. Every serial of the range must qualify, else nothing changes."""
    if kind not in MARK_KINDS:
        raise InvalidInput("Choose spoiled, voided or lost.", field="kind")
    require(actor, Permission.PAPER_PRINT if kind == "spoil" else Permission.INVENTORY_PAPER)
    category = clean_category(category)
    count = check_range(first, last)
    reason = one_line((reason or "").strip(), "reason")
    if not reason:
        raise InvalidInput("Write the reason; it stays in the stock ledger.", field="reason")
    now = utcnow()
    from_states = ["at_window", "printed"] if kind == "void" else ["at_window"]
    async with queued_write(PaperSerial._meta.db):
        await _location(window_id, "window")
        where = _range(category, first, last) & (PaperSerial.window == window_id) & PaperSerial.state.is_in(from_states)
        printed = await PaperSerial.select(PaperSerial.id, PaperSerial.ticket).where(
            where & PaperSerial.ticket.is_not_null()
        )
        for row in printed:  # the stub keeps its ticket's number; the ticket itself may be printed again
            await PaperSerial.update({PaperSerial.stub_ticket: row["ticket"], PaperSerial.ticket: None}).where(
                PaperSerial.id == row["id"]
            )
        changed = (
            await PaperSerial.update(
                {PaperSerial.state: MARK_KINDS[kind], PaperSerial.reason: reason, PaperSerial.changed_at: now}
            )
            .where(where)
            .returning(PaperSerial.serial)
        )
        if len(changed) != count:
            raise Conflict(
                "Only {n} of serials {first}-{last} can be marked at this window; nothing was changed.",
                field="first",
                n=len(changed),
                first=first,
                last=last,
            )
        for store, found in (await _by_store(category, [r["serial"] for r in changed])).items():
            await _journal(actor, now, kind, category, runs(found), store=store, window=window_id, reason=reason)
        await record(
            actor, f"paper.{kind}", "paper", f"{category}:{first}-{last}", after={"window": window_id, "reason": reason}
        )
    return count


_NEXT_SERIAL = """
UPDATE inventory_paper_serial SET state = 'printed', ticket = {}, changed_at = {}
WHERE id = (SELECT id FROM inventory_paper_serial WHERE category = {} AND "window" = {} AND state = 'at_window'
            ORDER BY serial LIMIT 1)
  AND state = 'at_window'
RETURNING serial, store
"""


@dataclass(frozen=True, slots=True)
class Printed:
    ticket_id: int
    serial: int


async def print_order(actor: Actor, code: str, window_id: int, category: str) -> list[Printed]:
    """Print a paid order's tickets at a window: each ticket not yet on paper takes the window's lowest unused
    serial of the category. Two windows printing at once never take the same serial (the UPDATE is
    conditional on the serial still being unused; a lost race takes the next one)."""
    require(actor, Permission.PAPER_PRINT)
    category = clean_category(category)
    now = utcnow()
    async with queued_write(PaperSerial._meta.db):
        await _location(window_id, "window")
        order = await Order.select(Order.id, Order.status).where(Order.code == code).first()
        if order is None:
            raise NotFound("No such order.")
        if order["status"] != PAID:
            raise Conflict("Tickets are printed only for a paid order.")
        on_paper = PaperSerial.select(PaperSerial.ticket).where(PaperSerial.ticket.is_not_null())
        tickets = (
            await Ticket.select(Ticket.id)
            .where((Ticket.order == order["id"]) & (Ticket.status == TICKET_ISSUED) & Ticket.id.not_in(on_paper))
            .order_by(Ticket.id)
        )
        if not tickets:
            raise Conflict("Every ticket of this order is printed already; void a serial to print it again.")
        printed = []
        for ticket in tickets:
            for _attempt in range(20):
                row = await PaperSerial.raw(_NEXT_SERIAL, ticket["id"], now, category, window_id)
                if row:
                    break
                left = await PaperSerial.exists().where(
                    (PaperSerial.category == category)
                    & (PaperSerial.window == window_id)
                    & (PaperSerial.state == "at_window")
                )
                if not left:
                    raise Conflict(
                        "This window has no blank {category} stock left; ask for a range to be issued.",
                        field="category",
                        category=category,
                    )
            else:
                raise Conflict("Other windows are printing; try again.")
            serial = row[0]["serial"]
            await _journal(
                actor,
                now,
                "print",
                category,
                [(serial, serial)],
                store=row[0]["store"],
                window=window_id,
                ticket=ticket["id"],
            )
            printed.append(Printed(ticket["id"], serial))
        await record(
            actor,
            "paper.print",
            "order",
            code,
            after={"window": window_id, "category": category, "serials": [p.serial for p in printed]},
        )
    return printed


@dataclass(frozen=True, slots=True)
class StoreLine:
    category: str
    location: str
    received: int
    issued: int
    returned: int
    in_store: int

    @property
    def balanced(self) -> bool:
        return self.received == self.issued - self.returned + self.in_store


@dataclass(frozen=True, slots=True)
class WindowLine:
    category: str
    location: str
    issued: int
    printed: int
    spoiled: int
    voided: int
    lost: int
    returned: int
    at_window: int

    @property
    def balanced(self) -> bool:
        used = self.printed + self.spoiled + self.voided + self.lost
        return self.issued == used + self.returned + self.at_window


async def ledger() -> tuple[list[StoreLine], list[WindowLine]]:
    """Per category and location: the journal's flows against the serials' states (see the module doc)."""
    names = {r["id"]: r["name"] for r in await PaperLocation.select(PaperLocation.id, PaperLocation.name)}
    flows = await PaperMovement.raw(
        'SELECT category, kind, store, "window", SUM(quantity) AS n FROM inventory_paper_movement '
        'GROUP BY category, kind, store, "window"'
    )
    states = await PaperSerial.raw(
        'SELECT category, state, store, "window", COUNT(*) AS n FROM inventory_paper_serial '
        'GROUP BY category, state, store, "window"'
    )
    store_flow: dict[tuple[str, int], dict[str, int]] = {}
    window_flow: dict[tuple[str, int], dict[str, int]] = {}
    for f in flows:
        store_key = (f["category"], f["store"])
        store_flow.setdefault(store_key, {})
        store_flow[store_key][f["kind"]] = store_flow[store_key].get(f["kind"], 0) + int(f["n"])
        if f["window"] is not None:
            window_key = (f["category"], f["window"])
            window_flow.setdefault(window_key, {})
            window_flow[window_key][f["kind"]] = window_flow[window_key].get(f["kind"], 0) + int(f["n"])
    in_store: dict[tuple[str, int], int] = {}
    at_window: dict[tuple[str, int], dict[str, int]] = {}
    for s in states:
        if s["state"] == "in_store":
            in_store[(s["category"], s["store"])] = in_store.get((s["category"], s["store"]), 0) + int(s["n"])
        elif s["window"] is not None:
            by_state = at_window.setdefault((s["category"], s["window"]), {})
            by_state[s["state"]] = by_state.get(s["state"], 0) + int(s["n"])
    stores = [
        StoreLine(c, names[loc], f.get("receive", 0), f.get("issue", 0), f.get("return", 0), in_store.get((c, loc), 0))
        for (c, loc), f in sorted(store_flow.items())
    ]
    windows = []
    for key in sorted(set(window_flow) | set(at_window)):
        f, st = window_flow.get(key, {}), at_window.get(key, {})
        windows.append(
            WindowLine(
                key[0],
                names[key[1]],
                f.get("issue", 0),
                st.get("printed", 0),
                st.get("spoiled", 0),
                st.get("voided", 0),
                st.get("lost", 0),
                f.get("return", 0),
                st.get("at_window", 0),
            )
        )
    return stores, windows


async def journal(limit: int = 100) -> list[dict]:
    return (
        await PaperMovement.select(
            PaperMovement.at,
            PaperMovement.kind,
            PaperMovement.category,
            PaperMovement.first_serial,
            PaperMovement.last_serial,
            PaperMovement.quantity,
            PaperMovement.store.name,
            PaperMovement.window.name,
            PaperMovement.ticket,
            PaperMovement.reason,
            PaperMovement.actor_name,
        )
        .order_by(PaperMovement.id, ascending=False)
        .limit(limit)
    )


async def serials_of_order(order_id: int) -> list[dict]:
    """The paper serials an order's tickets are printed on (shown on the order page)."""
    return await PaperSerial.select(PaperSerial.category, PaperSerial.serial, PaperSerial.ticket).where(
        PaperSerial.ticket.is_in(Ticket.select(Ticket.id).where(Ticket.order == order_id))
    )
