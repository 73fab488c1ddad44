"""Channel allocations (issue 13, R4.3): each sale draws from its own allocation, the pool only where the
setting allows; an allocation is never larger than the free stock; stock given back returns to its allocation."""

from __future__ import annotations

import pytest

from db.catalog.tables import EventSession, PriceClass
from db.core.errors import Conflict
from db.core.transaction import write_transaction
from db.inventory import allocations, stock
from db.inventory.tables import Allocation, AllocationEntry
from db.sales.aftersale.refunds import request_refund
from db.sales.ordering.orders import cancel_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.tables import OrderItem, Ticket
from tests.helpers import utc
from tests.inventory.support import OUTLET, SELLER, SUPERVISOR, buy, inventory_catalog


async def _available(allocation_id: int) -> int:
    return (await Allocation.select(Allocation.available).where(Allocation.id == allocation_id).first())["available"]


async def _class_free(price_class_id: int) -> int:
    return (await PriceClass.select(PriceClass.available).where(PriceClass.id == price_class_id).first())["available"]


async def test_an_allocation_is_taken_from_the_pool_and_never_larger_than_the_free_stock():
    ids = await inventory_catalog()
    partner = await allocations.create_allocation(
        SUPERVISOR, ids["ga_class"], "partner", 20, partner_id=ids["partner"].id
    )
    pool = (await Allocation.select(Allocation.id).where(Allocation.channel == "pool").first())["id"]
    assert await _available(partner) == 20 and await _available(pool) == 30
    with pytest.raises(Conflict) as refused:
        await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "outlet", 31, outlet=OUTLET)
    assert refused.value.params == {"free": 30}
    assert await Allocation.count() == 2 and await _available(pool) == 30  # nothing changed
    with pytest.raises(Conflict):  # the same target twice
        await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "partner", 1, partner_id=ids["partner"].id)
    entries = await AllocationEntry.select(AllocationEntry.kind, AllocationEntry.delta).order_by(AllocationEntry.id)
    assert entries == [{"kind": "move_out", "delta": -20}, {"kind": "create", "delta": 20}]
    assert await _class_free(ids["ga_class"]) == 50  # allocating sells nothing


async def test_a_sale_draws_from_its_own_allocation_and_on_the_pool_only_where_allowed():
    ids = await inventory_catalog()
    partner = await allocations.create_allocation(
        SUPERVISOR, ids["ga_class"], "partner", 3, partner_id=ids["partner"].id
    )
    outlet = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "outlet", 2, outlet=OUTLET)
    pool = (await Allocation.select(Allocation.id).where(Allocation.channel == "pool").first())["id"]
    await buy(ids, "partner", 3)
    assert await _available(partner) == 0 and await _available(pool) == 45
    with pytest.raises(Conflict):  # its allocation is spent and it may not draw on the pool
        await buy(ids, "partner", 1)
    await allocations.set_may_use_pool(SUPERVISOR, partner, True)
    await buy(ids, "partner", 2)
    assert await _available(partner) == 0 and await _available(pool) == 43
    await buy(ids, "outlet", 2)
    with pytest.raises(Conflict):
        await buy(ids, "outlet", 1)
    await buy(ids, "box_office", 4)  # no allocation of its own: the pool
    assert await _available(outlet) == 0 and await _available(pool) == 39
    assert await _class_free(ids["ga_class"]) == 39  # the class's count is the sum of its allocations'


async def test_stock_given_back_returns_to_the_allocation_it_came_from():
    ids = await inventory_catalog()
    await EventSession.update(
        {EventSession.starts_at: utc(days=30), EventSession.ends_at: utc(days=30, hours=8)}
    ).where(EventSession.id == ids["ga_session"])  # far enough ahead for a refund
    window = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "box_office", 4)
    held = await buy(ids, "box_office", 3)
    await cancel_order(SELLER, held.code, "changed their mind")
    assert await _available(window) == 4
    paid = await buy(ids, "box_office", 2)
    await confirm_window_payment(SELLER, paid.code, "card", reference="88020461")
    views = {v.channel: v for v in await allocations.shares_view(ids["ga_session"])}
    assert (views["box_office"].quantity, views["box_office"].available, views["box_office"].sold) == (4, 2, 2)
    await request_refund(SUPERVISOR, paid.code, channel="box_office", reference="POS-8812")
    assert await _available(window) == 4 and await _class_free(ids["ga_class"]) == 50
    views = {v.channel: v for v in await allocations.shares_view(ids["ga_session"])}
    assert (views["box_office"].quantity, views["box_office"].held, views["box_office"].sold) == (4, 0, 0)


async def test_seats_are_counted_against_their_allocation():
    ids = await inventory_catalog()
    await allocations.create_allocation(SUPERVISOR, ids["vip_class"], "partner", 2, partner_id=ids["partner"].id)
    pool = await Allocation.select(Allocation.id, Allocation.available).where(Allocation.channel == "pool").first()
    assert pool["available"] == 3  # five VIP seats, two of them the partner's
    seats = ids["vip_seats"]
    await buy(ids, "partner", seat=seats[0])
    await buy(ids, "partner", seat=seats[1])
    with pytest.raises(Conflict):
        await buy(ids, "partner", seat=seats[2])
    for seat in seats[2:]:
        await buy(ids, "box_office", seat=seat)
    assert await _available(pool["id"]) == 0
    views = {v.channel: v for v in await allocations.shares_view(ids["seated_session"])}
    assert views["partner"].held == 2 and views["pool"].held == 3


async def test_a_class_with_fewer_tickets_than_its_allocation_says_refuses_and_the_allocation_keeps_them():
    """Should the class's count ever be below its allocations' (stock taken outside them), the take is refused
    whole and the allocation keeps its tickets."""
    ids = await inventory_catalog()
    window = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "box_office", 10)
    await PriceClass.update({PriceClass.available: 0}).where(PriceClass.id == ids["ga_class"])
    async with write_transaction(Allocation._meta.db):
        assert not await stock.take(ids["ga_class"], 1, window, seated=False)
    assert await _available(window) == 10 and await _class_free(ids["ga_class"]) == 0
    with pytest.raises(Conflict):
        await buy(ids, "box_office", 1)


async def test_a_line_larger_than_its_share_takes_the_rest_from_the_pool_and_refunds_go_back_where_they_came_from():
    """Share and pool in one order line (may_use_pool): the window's last 3 and 2 from the pool; tickets given
    back return to the pool's part first (drawn last), then to the window's, and the class count stays the sum
    of its allocations'."""
    ids = await inventory_catalog()
    await EventSession.update(
        {EventSession.starts_at: utc(days=30), EventSession.ends_at: utc(days=30, hours=8)}
    ).where(EventSession.id == ids["ga_session"])
    window = await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "box_office", 3, may_use_pool=True)
    pool = (await Allocation.select(Allocation.id).where(Allocation.channel == "pool").first())["id"]
    order = await buy(ids, "box_office", 5)
    lines = await OrderItem.select(OrderItem.allocation, OrderItem.quantity).where(OrderItem.order == order.id)
    assert sorted((r["allocation"], r["quantity"]) for r in lines) == sorted([(window, 3), (pool, 2)])
    assert (await _available(window), await _available(pool), await _class_free(ids["ga_class"])) == (0, 45, 45)
    await confirm_window_payment(SELLER, order.code, "card", reference="88020461")
    tickets = [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order == order.id).order_by(Ticket.id)]
    await request_refund(SUPERVISOR, order.code, tickets[:1], channel="box_office", reference="POS-1")
    assert (await _available(window), await _available(pool)) == (0, 46)
    await request_refund(SUPERVISOR, order.code, tickets[1:3], channel="box_office", reference="POS-2")
    assert (await _available(window), await _available(pool), await _class_free(ids["ga_class"])) == (1, 47, 48)
    with pytest.raises(Conflict):  # the window's 1 and the pool's 47 are 48: not 49
        await buy(ids, "box_office", 49)
    assert (await _available(window), await _available(pool), await _class_free(ids["ga_class"])) == (1, 47, 48)
