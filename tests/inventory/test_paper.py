"""Paper ticket stock (issue 13, R4.5): received by serial range into a store, issued to windows, one serial per
printed ticket linked to it, spoiled/voided/lost with a reason, returned; the ledger always balances; overlapping
ranges refused; two windows printing at once never take the same serial; only the inventory duty touches it."""

from __future__ import annotations

import asyncio
import random

import pytest

from db.audit.tables import AuditEntry
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.inventory import paper
from db.inventory.tables import PaperMovement, PaperSerial
from db.sales.tables import Ticket
from tests.inventory.paper_support import SELLER, SUPERVISOR, other_actor, paid_ga, staff, stock_at_windows
from tests.sales.support import sales_catalog

CAT = "通用票纸"


async def _balanced() -> tuple[list, list]:
    stores, windows = await paper.ledger()
    for line in stores:
        assert line.balanced, line
    for line in windows:
        assert line.balanced, line
    # The journal agrees with the serials themselves: every serial received once, and each state counted once.
    total = await PaperSerial.count()
    assert sum(s.received for s in stores) == total
    assert (
        sum(s.in_store for s in stores) + sum(w.at_window + w.printed + w.spoiled + w.voided + w.lost for w in windows)
        == total
    )
    return stores, windows


async def test_receive_issue_print_void_return_and_the_ledger_balances():
    ids = await sales_catalog()
    await staff()
    stock = await stock_at_windows(windows=1, per_window=10)
    window = stock["windows"][0]
    code = await paid_ga(ids, quantity=3)
    printed = await paper.print_order(SELLER, code, window, CAT)
    assert [p.serial for p in printed] == [100001, 100002, 100003]
    tickets = await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)
    assert [p.ticket_id for p in printed] == [t["id"] for t in tickets]
    linked = await PaperSerial.select(PaperSerial.serial, PaperSerial.ticket).where(PaperSerial.state == "printed")
    assert {r["serial"]: r["ticket"] for r in linked} == {p.serial: p.ticket_id for p in printed}
    with pytest.raises(Conflict):  # each ticket is printed once
        await paper.print_order(SELLER, code, window, CAT)
    # The printer jams on 100002: void it (stub kept with its ticket's number), print that ticket again.
    await paper.mark(SUPERVISOR, "void", CAT, 100002, 100002, window, "卡纸作废，存根留存")
    again = await paper.print_order(SELLER, code, window, CAT)
    assert [(p.ticket_id, p.serial) for p in again] == [(printed[1].ticket_id, 100004)]
    stub = await PaperSerial.select().where(PaperSerial.serial == 100002).first()
    assert stub["state"] == "voided" and stub["stub_ticket"] == printed[1].ticket_id and stub["ticket"] is None
    await paper.mark(SELLER, "spoil", CAT, 100005, 100005, window, "打印偏移")
    await paper.mark(SUPERVISOR, "lose", CAT, 100006, 100006, window, "交接时遗失")
    assert await paper.return_range(SUPERVISOR, CAT, 100001, 100010, window, "班次结束") == 4  # 100007-100010
    stores, windows = await _balanced()
    (store_line,) = stores
    assert (store_line.received, store_line.issued, store_line.returned, store_line.in_store) == (110, 10, 4, 104)
    (w,) = windows
    assert (w.issued, w.printed, w.voided, w.spoiled, w.lost, w.returned, w.at_window) == (10, 3, 1, 1, 1, 4, 0)
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action)}
    assert {"paper.receive", "paper.issue", "paper.print", "paper.void", "paper.spoil", "paper.lose"} <= actions


async def test_overlapping_ranges_are_refused_and_nothing_changes():
    await staff()
    store = await paper.add_location(SUPERVISOR, "库房", "store")
    await paper.receive(SUPERVISOR, CAT, 500, 599, store)
    before = await PaperSerial.count(), await PaperMovement.count()
    for first, last in ((550, 650), (400, 500), (599, 599), (1, 10_000)):
        with pytest.raises(Conflict, match="overlap"):
            await paper.receive(SUPERVISOR, CAT, first, last, store)
    assert (await PaperSerial.count(), await PaperMovement.count()) == before
    await paper.receive(SUPERVISOR, "贵宾票纸", 500, 599, store)  # another category has its own serials
    with pytest.raises(InvalidInput):
        await paper.receive(SUPERVISOR, CAT, 700, 600, store)
    # Issuing a range that is not wholly in the store moves nothing.
    window = await paper.add_location(SUPERVISOR, "窗口", "window")
    with pytest.raises(Conflict):
        await paper.issue(SUPERVISOR, CAT, 590, 610, store, window)
    assert await PaperSerial.count().where(PaperSerial.state == "at_window") == 0


async def test_concurrent_receives_of_one_range_take_it_once():
    await staff()
    store = await paper.add_location(SUPERVISOR, "库房", "store")
    results = await asyncio.gather(
        *(paper.receive(SUPERVISOR, CAT, 1000, 1999, store) for _ in range(4)), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "Conflict", "int"]
    assert await PaperSerial.count() == 1000


async def test_two_windows_printing_at_once_never_take_the_same_serial():
    ids = await sales_catalog()
    await staff()
    # Both windows print from the same window's stock to make the race as tight as it gets: 12 orders at once.
    stock = await stock_at_windows(windows=1, per_window=30)
    window = stock["windows"][0]
    codes = [await paid_ga(ids, quantity=2) for _ in range(12)]
    results = await asyncio.gather(*(paper.print_order(SELLER, c, window, CAT) for c in codes), return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception)], results
    serials = [p.serial for r in results for p in r]
    assert len(serials) == 24 and len(set(serials)) == 24
    rows = await PaperSerial.select(PaperSerial.ticket).where(PaperSerial.state == "printed")
    assert len({r["ticket"] for r in rows}) == 24
    await _balanced()


async def test_a_window_out_of_stock_is_told_so():
    ids = await sales_catalog()
    await staff()
    stock = await stock_at_windows(windows=1, per_window=1)
    code = await paid_ga(ids, quantity=2)
    with pytest.raises(Conflict, match="no blank"):
        await paper.print_order(SELLER, code, stock["windows"][0], CAT)
    assert await PaperSerial.count().where(PaperSerial.state == "printed") == 0  # nothing half-printed


async def test_only_the_inventory_duty_touches_the_stock():
    await staff()
    store = await paper.add_location(SUPERVISOR, "库房", "store")
    for role in ("seller", "auditor", "gate", "admin"):
        with pytest.raises(PermissionDenied):
            await paper.receive(other_actor(role), CAT, 1, 10, store)
    with pytest.raises(PermissionDenied):
        await paper.print_order(other_actor("gate"), "NOCODE", store, CAT)
    assert await PaperSerial.count() == 0


async def test_the_ledger_balances_after_any_sequence_of_operations():
    ids = await sales_catalog()
    await staff()
    rng = random.Random(13)
    stores = [await paper.add_location(SUPERVISOR, f"库房{i}", "store") for i in range(2)]
    windows = [await paper.add_location(SUPERVISOR, f"窗口{i}", "window") for i in range(3)]
    categories = [CAT, "贵宾票纸"]
    next_serial = {c: 1 for c in categories}
    codes = [await paid_ga(ids, quantity=1) for _ in range(6)]
    refused = 0
    for _step in range(120):
        category = rng.choice(categories)
        first = rng.randint(1, max(next_serial[category], 2))
        last = first + rng.randint(0, 15)
        window = rng.choice(windows)
        op = rng.choice(["receive", "issue", "issue", "return", "spoil", "void", "lose", "print"])
        try:
            if op == "receive":
                size = rng.randint(1, 40)
                await paper.receive(
                    SUPERVISOR, category, next_serial[category], next_serial[category] + size - 1, rng.choice(stores)
                )
                next_serial[category] += size
            elif op == "issue":
                await paper.issue(SUPERVISOR, category, first, last, rng.choice(stores), window)
            elif op == "return":
                await paper.return_range(SUPERVISOR, category, first, last, window)
            elif op == "print":
                await paper.print_order(SELLER, rng.choice(codes), window, category)
            else:
                await paper.mark(SUPERVISOR, op, category, first, last, window, "随机检查")
        except (Conflict, InvalidInput):
            refused += 1
        await _balanced()
    stores_lines, windows_lines = await _balanced()
    assert sum(w.issued for w in windows_lines) > 0 and refused > 0  # the sequence did real work and refusals
