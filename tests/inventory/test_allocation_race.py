"""A partner, a named outlet and the box office racing for the last tickets (issue 13, R4.3, R1.2): no
allocation sells more than it was given, the class never oversells, and the counts stay the sum of the
allocations'; with seat blocks, each sells only its own seats. On PostgreSQL these one-line orders take the
one-statement fast path (rush.py), on SQLite the careful path; the second test races the two paths against
each other."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from db.catalog.tables import PriceClass, SessionSeat
from db.core.errors import Conflict, InvalidInput
from db.inventory import allocations
from db.inventory.tables import Allocation
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.tables import OrderItem
from tests.helpers import http_client
from tests.inventory.support import OUTLET, SUPERVISOR, buy, inventory_catalog
from tests.sales.support import AUTH, BUYER

BUYERS = 40  # per channel, one ticket each, for 50 tickets
SEAT_BUYERS = 12  # per channel, the best seat of a class of five


async def test_a_partner_an_outlet_and_the_box_office_racing_for_the_last_tickets_never_oversell():
    ids = await inventory_catalog()
    ga = ids["ga_class"]
    partner = await allocations.create_allocation(SUPERVISOR, ga, "partner", 10, partner_id=ids["partner"].id)
    outlet = await allocations.create_allocation(SUPERVISOR, ga, "outlet", 10, outlet=OUTLET)
    window = await allocations.create_allocation(SUPERVISOR, ga, "box_office", 10, may_use_pool=True)
    work = [buy(ids, who) for _ in range(BUYERS) for who in ("partner", "outlet", "box_office")]
    results = await asyncio.gather(*work, return_exceptions=True)
    kinds = Counter(type(r).__name__ for r in results)
    assert set(kinds) == {"OrderSummary", "Conflict"}, kinds
    sold = Counter(
        who
        for who, r in zip(["partner", "outlet", "box_office"] * BUYERS, results, strict=True)
        if not isinstance(r, Exception)
    )
    # The partner and the outlet get exactly their own; the box office its own and the whole pool (20).
    assert sold == Counter({"partner": 10, "outlet": 10, "box_office": 30}), sold
    rows = {r["id"]: r for r in await Allocation.select(Allocation.id, Allocation.available, Allocation.channel)}
    assert all(r["available"] == 0 for r in rows.values()), rows
    assert (await PriceClass.select(PriceClass.available).where(PriceClass.id == ga).first())["available"] == 0
    per_allocation = Counter()
    for line in await OrderItem.select(OrderItem.allocation, OrderItem.quantity):
        per_allocation[line["allocation"]] += line["quantity"]
    pool = next(i for i, r in rows.items() if r["channel"] == "pool")
    assert per_allocation == Counter({partner: 10, outlet: 10, window: 10, pool: 20}), per_allocation


async def test_the_fast_path_and_the_careful_path_racing_on_one_allocation_never_oversell_it():
    """Two-line orders take the careful path (ORM, one transaction), one-line orders the fast path on PostgreSQL."""
    ids = await inventory_catalog()
    ga = ids["ga_class"]
    partner = await allocations.create_allocation(SUPERVISOR, ga, "partner", 10, partner_id=ids["partner"].id)
    seller = ids["partner"]
    two_lines = [ItemRequest(price_class_id=ga, quantity=1), ItemRequest(price_class_id=ga, quantity=1)]

    async def careful():
        return await create_order(
            seller.actor, session_id=ids["ga_session"], channel="partner", buyer=BUYER, items=two_lines,
            partner_id=seller.id, outlet=seller.name,
        )  # fmt: skip

    work = [buy(ids, "partner") if i % 2 else careful() for i in range(30)]
    await asyncio.gather(*work, return_exceptions=True)
    taken = sum(
        r["quantity"] for r in await OrderItem.select(OrderItem.quantity).where(OrderItem.allocation == partner)
    )
    left = (await Allocation.select(Allocation.available).where(Allocation.id == partner).first())["available"]
    assert taken + left == 10 and taken >= 9, (taken, left)
    assert await OrderItem.count().where(OrderItem.allocation != partner) == 0  # never the pool: not allowed
    free = (await PriceClass.select(PriceClass.available).where(PriceClass.id == ga).first())["available"]
    assert free == 50 - taken


async def test_the_partner_api_shows_the_partner_what_it_can_buy():
    ids = await inventory_catalog()
    ga = ids["ga_class"]
    partner = await allocations.create_allocation(SUPERVISOR, ga, "partner", 7, partner_id=ids["partner"].id)
    await allocations.create_allocation(SUPERVISOR, ga, "box_office", 30)

    async def shown() -> int:
        async with http_client() as client:
            body = (await client.get(f"/api/v1/sessions/{ids['ga_session']}/availability", headers=AUTH)).json()
        assert set(body["price_classes"][0]) == {"id", "name", "price_fen", "available", "seated"}  # same shape
        return body["price_classes"][0]["available"]

    assert await shown() == 7
    await allocations.set_may_use_pool(SUPERVISOR, partner, True)
    assert await shown() == 7 + 13  # its own and the open pool
    async with http_client() as client:
        order = {"session_id": ids["ga_session"], "items": [{"price_class_id": ga, "quantity": 21}]}
        order["buyer"] = {"name": "王小明", "phone": "13800138000"}
        refused = await client.post("/api/v1/orders", json=order, headers=AUTH)
        assert refused.status_code == 409
        order["items"][0]["quantity"] = 20  # its own 7 and 13 of the pool, in one order line
        assert (await client.post("/api/v1/orders", json=order, headers=AUTH)).status_code == 201
    assert await shown() == 0
    lines = await OrderItem.select(OrderItem.allocation, OrderItem.quantity).where(OrderItem.allocation == partner)
    assert [r["quantity"] for r in lines] == [7]


async def test_seat_blocks_raced_for_by_a_partner_an_outlet_and_the_box_office_sell_only_to_their_own():
    """A seat-map session: the partner and the outlet each get a block of two 甲等 seats; the fifth seat is the
    pool's. Buyers asking for the best seat of the class get only seats they may sell, whatever the race."""
    ids = await inventory_catalog()
    a_class = ids["a_class"]
    a_seats = [s["seat"] for s in await SessionSeat.select(SessionSeat.seat).where(
        SessionSeat.price_class == a_class).order_by(SessionSeat.seat)]  # fmt: skip
    partner = await allocations.create_allocation(
        SUPERVISOR, a_class, "partner", 0, partner_id=ids["partner"].id, seats=a_seats[:2]
    )
    outlet = await allocations.create_allocation(SUPERVISOR, a_class, "outlet", 0, outlet=OUTLET, seats=a_seats[2:4])
    with pytest.raises(Conflict):  # the box office may not take the partner's seat, even by choosing it
        await buy(ids, "box_office", seat=a_seats[0])
    who = ("partner", "outlet", "box_office")
    work = [buy(ids, w, price_class="a_class") for _ in range(SEAT_BUYERS) for w in who]
    results = await asyncio.gather(*work, return_exceptions=True)
    assert {type(r).__name__ for r in results} == {"OrderSummary", "Conflict"}, results
    seats_of = {w: set() for w in who}
    for w, r in zip(who * SEAT_BUYERS, results, strict=True):
        if not isinstance(r, Exception):
            rows = await OrderItem.select(OrderItem.seat).where(OrderItem.order == r.id)
            seats_of[w] |= {row["seat"] for row in rows}
    assert seats_of == {"partner": set(a_seats[:2]), "outlet": set(a_seats[2:4]), "box_office": {a_seats[4]}}
    left = {r["id"]: r["available"] for r in await Allocation.select(Allocation.id, Allocation.available)}
    assert left[partner] == left[outlet] == 0 and sum(left.values()) == 0, left
    assert await SessionSeat.count().where((SessionSeat.price_class == a_class) & (SessionSeat.status == "free")) == 0


async def test_a_seat_block_is_made_of_free_seats_of_its_class_in_no_other_block():
    ids = await inventory_catalog()
    a_seats = [s["seat"] for s in await SessionSeat.select(SessionSeat.seat).where(
        SessionSeat.price_class == ids["a_class"]).order_by(SessionSeat.seat)]  # fmt: skip
    assert await allocations.row_range_seats(ids["a_class"], "池座", "2", "2") == a_seats
    block = await allocations.create_allocation(
        SUPERVISOR, ids["a_class"], "outlet", 0, outlet=OUTLET, seats=a_seats[:2]
    )
    for bad, refusal in (
        ({"price_class_id": ids["a_class"], "seats": a_seats[1:3]}, Conflict),  # a seat in another block
        ({"price_class_id": ids["a_class"], "seats": [ids["vip_seats"][0]]}, Conflict),  # another class's seat
        ({"price_class_id": ids["ga_class"], "seats": [a_seats[3]]}, InvalidInput),  # general admission
    ):
        with pytest.raises(refusal):
            await allocations.create_allocation(SUPERVISOR, channel="box_office", quantity=0, **bad)
    assert await Allocation.count().where(Allocation.price_class == ids["a_class"]) == 2  # the pool and the block
    pool = (await Allocation.select(Allocation.id).where(
        (Allocation.price_class == ids["a_class"]) & (Allocation.channel == "pool")).first())["id"]  # fmt: skip
    with pytest.raises(InvalidInput):  # a block changes by its seats
        await allocations.request_move(SUPERVISOR, pool, block, 1, "周末加售")
