"""No oversell, no seat sold twice, no order paid twice (R1.2): hundreds of simultaneous buyers, as real
operations and as real HTTP requests, on whichever engine the run uses (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from db.catalog.tables import PriceClass, SessionSeat
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import (
    confirm_window_payment,
    handle_payment_callback,
    pay_prepaid,
    start_online_payment,
)
from db.sales.payments.providers import provider
from db.sales.tables import Order, OrderItem, Payment, Ticket
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import AUTH, BUYER, sales_catalog

BUYERS = 200


async def _available(price_class_id: int) -> int:
    return (await PriceClass.select(PriceClass.available).where(PriceClass.id == price_class_id).first())["available"]


async def _outcomes(coroutines) -> tuple[list, Counter]:
    results = await asyncio.gather(*coroutines, return_exceptions=True)
    kinds = Counter(type(r).__name__ for r in results)
    return results, kinds


async def test_hundreds_of_buyers_for_the_last_tickets_never_oversell_and_each_order_is_paid_once():
    ids = await sales_catalog()
    results, kinds = await _outcomes(
        create_order(
            ADMIN_ACTOR,
            session_id=ids["ga_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
        )
        for _ in range(BUYERS)
    )
    assert kinds == Counter({"OrderSummary": 50, "Conflict": BUYERS - 50}), kinds
    assert await _available(ids["ga_class"]) == 0
    codes = [r.code for r in results if not isinstance(r, Exception)]
    # Every order paid three times at once, at the window: one payment each, the others refused.
    paid, kinds = await _outcomes(
        confirm_window_payment(ADMIN_ACTOR, code, "card", reference="88020461") for code in codes * 3
    )
    assert kinds == Counter({"PaymentResult": 50, "Conflict": 100}), kinds
    assert await Payment.count() == 50 and await Ticket.count() == 50
    per_order = Counter(p["order"] for p in await Payment.select(Payment.order))
    assert set(per_order.values()) == {1}


async def test_hundreds_of_http_buyers_for_the_last_tickets_no_oversell_no_5xx():
    ids = await sales_catalog()
    rng = random.Random(7)
    quantities = [rng.choice((1, 1, 2, 3)) for _ in range(BUYERS)]
    async with http_client() as client:

        async def buy(quantity: int):
            return await client.post(
                "/api/v1/orders",
                headers=AUTH,
                json={
                    "session_id": ids["ga_session"],
                    "items": [{"price_class_id": ids["ga_class"], "quantity": quantity}],
                    "buyer": {"name": "抢票", "phone": "13800000000"},
                },
            )

        responses = await asyncio.gather(*(buy(q) for q in quantities))
        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        held = sum(q for q, r in zip(quantities, responses, strict=True) if r.status_code == 201)
        assert held <= 50 and held + await _available(ids["ga_class"]) == 50
        assert held >= 48  # only a remainder smaller than an order can stay unsold
        codes = [r.json()["code"] for r in responses if r.status_code == 201]
        pays = await asyncio.gather(*(client.post(f"/api/v1/orders/{code}/pay", headers=AUTH) for code in codes * 3))
    assert {p.status_code for p in pays} == {200}
    assert await Ticket.count() == held
    assert await Payment.count() == len(codes)
    assert await Order.count().where(Order.status == "paid") == len(codes)


async def test_hundreds_of_buyers_for_the_same_seats_never_share_a_seat():
    ids = await sales_catalog()
    seats = ids["seats"]
    rng = random.Random(11)
    wishes = [rng.sample(seats, rng.choice((1, 2, 3))) for _ in range(BUYERS)]
    results, kinds = await _outcomes(
        create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(seat_id=s) for s in wish],
        )
        for wish in wishes
    )
    assert set(kinds) <= {"OrderSummary", "Conflict"}, kinds
    won = [(r, wish) for r, wish in zip(results, wishes, strict=True) if not isinstance(r, Exception)]
    claimed = [s for _, wish in won for s in wish]
    assert len(claimed) == len(set(claimed))  # no seat in two orders
    rows = await SessionSeat.select(SessionSeat.seat, SessionSeat.status, SessionSeat.hold_ref).where(
        SessionSeat.session == ids["seated_session"]
    )
    holder = {r["seat"]: r["hold_ref"] for r in rows if r["status"] == "held"}
    assert holder == {s: r.code for r, wish in won for s in wish}
    assert await OrderItem.count() == len(claimed)
    # Sold at once through the window and the partner path: each seat sold once.
    paid, kinds = await _outcomes(
        confirm_window_payment(ADMIN_ACTOR, r.code, "cash", tendered_fen=10**7) for r, _ in won * 2
    )
    assert kinds["PaymentResult"] == len(won)
    sold = [t["seat"] for t in await Ticket.select(Ticket.seat)]
    assert sorted(sold) == sorted(claimed)


async def test_http_buyers_racing_for_single_seats_get_each_seat_once():
    ids = await sales_catalog()
    seats = ids["seats"]
    async with http_client() as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/orders",
                    headers=AUTH,
                    json={
                        "session_id": ids["seated_session"],
                        "items": [{"seat_id": seats[i % len(seats)]}],
                        "buyer": {"name": "抢座", "phone": "13800000000"},
                    },
                )
                for i in range(BUYERS)
            )
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({201: len(seats), 409: BUYERS - len(seats)}), statuses
    assert await SessionSeat.count().where(SessionSeat.status == "free") == 0


@pytest.mark.parametrize("quantity", [4, 50], ids=["some tickets", "the last tickets"])
async def test_racing_requests_with_one_idempotency_key_make_one_order(quantity):
    ids = await sales_catalog()
    body = {
        "session_id": ids["ga_session"],
        "items": [{"price_class_id": ids["ga_class"], "quantity": quantity}],
        "buyer": {"name": "重试", "phone": "13800000000"},
    }
    async with http_client() as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "retry-storm"}, json=body)
                for _ in range(40)
            )
        )
    # Every retry gets the one order, also when the first attempt took the last tickets (not "sold out").
    assert [r.status_code for r in responses] == [201] * 40
    assert len({r.json()["code"] for r in responses}) == 1
    assert await Order.count() == 1
    assert await _available(ids["ga_class"]) == 50 - quantity


async def test_concurrent_callbacks_and_prepaid_confirmations_pay_once():
    ids = await sales_catalog()
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="web_shop",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=2)],
    )
    checkouts = [await start_online_payment(ADMIN_ACTOR, order.code) for _ in range(3)]
    sandbox = provider("sandbox")
    notices = [sandbox.callback_body(c.reference, order.code, order.total_fen) for c in checkouts] * 10
    results, kinds = await _outcomes(handle_payment_callback("sandbox", body, signature) for body, signature in notices)
    assert not any(isinstance(r, Exception) for r in results), kinds
    outcomes = Counter(r.outcome for r in results)
    assert outcomes["accepted"] == 1, outcomes
    assert await Ticket.count() == 2
    assert await Payment.count().where(Payment.status == "succeeded") == 1
    # Partner-prepaid orders: a storm of pay calls issues the tickets once.
    from db.sales.channels.partners import partner_for_key
    from tests.sales.support import PARTNER_KEY

    partner = await partner_for_key(PARTNER_KEY)
    placed = await create_order(
        partner.actor,
        session_id=ids["ga_session"],
        channel="partner",
        buyer=BUYER,
        partner_id=partner.id,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=3)],
    )
    results, kinds = await _outcomes(pay_prepaid(partner.actor, placed.code, partner.id) for _ in range(30))
    assert Counter(r.outcome for r in results) == Counter({"accepted": 1, "already_paid": 29}), kinds
    assert await Ticket.count() == 5
