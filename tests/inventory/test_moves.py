"""Moving stock between allocations (issue 13, R4.3): a request and an approval by a second person, written to
the allocation ledger with who and why; held or sold stock never moves; a refused move changes nothing."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.inventory import allocations
from db.inventory.tables import Allocation, AllocationEntry, AllocationMove
from tests.inventory.support import OUTLET, SECOND, SUPERVISOR, buy, inventory_catalog


async def _sizes() -> dict[str, tuple[int, int]]:
    rows = await Allocation.select(Allocation.channel, Allocation.quantity, Allocation.available)
    return {r["channel"]: (r["quantity"], r["available"]) for r in rows}


async def test_a_move_is_asked_for_approved_by_a_second_person_and_written_to_the_ledger():
    ids = await inventory_catalog()
    outlet = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "outlet", 10, outlet=OUTLET)
    partner = await allocations.create_allocation(
        SUPERVISOR, ids["ga_class"], "partner", 5, partner_id=ids["partner"].id
    )
    move = await allocations.request_move(SUPERVISOR, outlet, partner, 4, "携程预售火爆，王府井网点滞销")
    assert await _sizes() == {"pool": (35, 35), "outlet": (10, 10), "partner": (5, 5)}  # nothing moved yet
    with pytest.raises(PermissionDenied):
        await allocations.approve_move(SUPERVISOR, move)
    await allocations.approve_move(SECOND, move, "同意")
    assert await _sizes() == {"pool": (35, 35), "outlet": (6, 6), "partner": (9, 9)}
    with pytest.raises(Conflict):
        await allocations.approve_move(SECOND, move)  # once
    entries = await AllocationEntry.select(
        AllocationEntry.allocation, AllocationEntry.kind, AllocationEntry.delta, AllocationEntry.actor_name,
        AllocationEntry.approved_by_name, AllocationEntry.note,
    ).where(AllocationEntry.move_id == move)  # fmt: skip
    assert entries == [
        {"allocation": outlet, "kind": "move_out", "delta": -4, "actor_name": "张伟", "approved_by_name": "王芳",
         "note": "携程预售火爆，王府井网点滞销"},
        {"allocation": partner, "kind": "move_in", "delta": 4, "actor_name": "张伟", "approved_by_name": "王芳",
         "note": "携程预售火爆，王府井网点滞销"},
    ]  # fmt: skip
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_type == "allocation_move")
    ]
    assert actions == ["allocation.move_request", "allocation.move_approve"]
    with pytest.raises(Exception, match="immutable"):  # noqa: B017 (sqlite3 or asyncpg error) the ledger is immutable
        await AllocationEntry.update({AllocationEntry.delta: 0}).where(AllocationEntry.move_id == move)


async def test_held_or_sold_stock_cannot_be_moved_and_a_refused_move_changes_nothing():
    ids = await inventory_catalog()
    outlet = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "outlet", 5, outlet=OUTLET)
    pool = (await Allocation.select(Allocation.id).where(Allocation.channel == "pool").first())["id"]
    await buy(ids, "outlet", 3)  # held for the buyer
    with pytest.raises(Conflict) as refused:
        await allocations.request_move(SUPERVISOR, outlet, pool, 3, "退回公共池")
    assert refused.value.params == {"free": 2}
    move = await allocations.request_move(SUPERVISOR, outlet, pool, 2, "退回公共池")
    await buy(ids, "outlet", 1)  # sold meanwhile: only one is free now
    with pytest.raises(Conflict):
        await allocations.approve_move(SECOND, move)
    assert await _sizes() == {"pool": (45, 45), "outlet": (5, 1)}
    assert (await AllocationMove.select(AllocationMove.status).where(AllocationMove.id == move).first())[
        "status"
    ] == "requested"
    await allocations.reject_move(SECOND, move, "网点还在卖")
    assert (await AllocationMove.select(AllocationMove.status).where(AllocationMove.id == move).first())[
        "status"
    ] == "rejected"
    with pytest.raises(InvalidInput):
        await allocations.request_move(SUPERVISOR, outlet, pool, 1, "  ")  # why is required
    seated_pool = await allocations.create_allocation(SUPERVISOR, ids["vip_class"], "box_office", 1)
    with pytest.raises(InvalidInput):  # another class
        await allocations.request_move(SUPERVISOR, outlet, seated_pool, 1, "换")
