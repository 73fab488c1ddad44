"""Replenishment (issue 13, R4.4): a request with quantity and reason, approved by a second person as a plan
with its source or rejected, then carried out into the allocation; consignment stock leaves its cost."""

from __future__ import annotations

import pytest

from db.catalog.tables import PriceClass
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.inventory import allocations, replenishment
from db.inventory.tables import Allocation, AllocationEntry, Replenishment, SupplyCost
from tests.inventory.support import SECOND, SELLER, SUPERVISOR, inventory_catalog


async def _status(request_id: int) -> str:
    return (await Replenishment.select(Replenishment.status).where(Replenishment.id == request_id).first())["status"]


async def test_a_hold_back_is_released_into_the_allocation_that_ran_short():
    ids = await inventory_catalog()
    ga = ids["ga_class"]
    window = await allocations.create_allocation(SUPERVISOR, ga, "box_office", 10)
    held_back = await allocations.create_allocation(SUPERVISOR, ga, "hold_back", 8)
    asked = await replenishment.request_replenishment(SELLER, ga, 5, "窗口排队，票不够", target_id=window)
    with pytest.raises(PermissionDenied):
        await replenishment.approve(SELLER, asked, "hold_back", hold_back_id=held_back)
    with pytest.raises(InvalidInput):  # the hold-back must be named
        await replenishment.approve(SUPERVISOR, asked, "hold_back")
    await replenishment.approve(SUPERVISOR, asked, "hold_back", hold_back_id=held_back, note="释放主办预留")
    assert await _status(asked) == "planned"
    await replenishment.carry_out(SUPERVISOR, asked)
    rows = {r["id"]: r for r in await Allocation.select(Allocation.id, Allocation.quantity, Allocation.available)}
    assert (rows[window]["quantity"], rows[held_back]["quantity"]) == (15, 3)
    assert await _status(asked) == "done"
    kinds = [
        e["kind"]
        for e in await AllocationEntry.select(AllocationEntry.kind).where(AllocationEntry.replenishment_id == asked)
    ]
    assert sorted(kinds) == ["release", "replenish"]
    with pytest.raises(Conflict):
        await replenishment.carry_out(SUPERVISOR, asked)  # once


async def test_consignment_adds_capacity_and_records_its_cost():
    ids = await inventory_catalog()
    ga = ids["ga_class"]
    asked = await replenishment.request_replenishment(SELLER, ga, 20, "加开一批")
    with pytest.raises(InvalidInput):
        await replenishment.approve(SUPERVISOR, asked, "consignment", supplier="大麦网")
    await replenishment.approve(
        SUPERVISOR, asked, "consignment", supplier="大麦网", agreement="DM-2026-118", cost_per_ticket_fen=4200
    )
    await replenishment.carry_out(SECOND, asked)
    pc = await PriceClass.select(PriceClass.capacity, PriceClass.available).where(PriceClass.id == ga).first()
    assert pc == {"capacity": 70, "available": 70}
    pool = (
        await Allocation.select(Allocation.quantity, Allocation.available).where(Allocation.channel == "pool").first()
    )
    assert pool == {"quantity": 70, "available": 70}
    cost = await SupplyCost.select(SupplyCost.supplier, SupplyCost.quantity, SupplyCost.total_fen).first()
    assert cost == {"supplier": "大麦网", "quantity": 20, "total_fen": 84000}
    with pytest.raises(Exception, match="immutable"):  # noqa: B017 (sqlite3 or asyncpg error)
        await SupplyCost.update({SupplyCost.total_fen: 0}, force=True)


async def test_a_rejected_request_changes_no_stock():
    ids = await inventory_catalog()
    asked = await replenishment.request_replenishment(SELLER, ids["ga_class"], 3, "想多要几张")
    with pytest.raises(InvalidInput):
        await replenishment.reject(SUPERVISOR, asked, "")
    await replenishment.reject(SUPERVISOR, asked, "本场不加票")
    assert await _status(asked) == "rejected"
    with pytest.raises(Conflict):
        await replenishment.carry_out(SUPERVISOR, asked)
    assert await Allocation.count() == 0
