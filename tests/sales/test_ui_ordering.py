"""Placing an order at the window (R3.4 step 2, R3.5, R3.6, R1.2): seats from the plan or GA quantities,
concession per ticket only with a checked ID, group discount shown, the hold; bad input is an on-page error
with nothing written; a seat taken meanwhile gives a clear message and the fresh plan, never an error page."""

from __future__ import annotations

import asyncio

from db.catalog.tables import SessionSeat
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.tables import Order, OrderItem
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, post_form
from tests.sales.support import BUYER, sales_catalog
from tests.sales.ui_support import HX, staff_client

BUYER_FORM = {"buyer_name": "王小明", "buyer_phone": "13800138000", "buyer_email": "xiaoming@example.cn"}


async def _held_seats(session_id: int) -> set[int]:
    rows = await SessionSeat.select(SessionSeat.seat).where(
        (SessionSeat.session == session_id) & (SessionSeat.status == "held")
    )
    return {r["seat"] for r in rows}


async def test_seller_holds_two_seats_picked_on_the_plan():
    ids = await sales_catalog()
    seats = ids["vip_seats"][:2]
    base = f"/sales/sessions/{ids['seated_session']}"
    async with staff_client(Role.SELLER, "seller1") as client:
        details = await post_form(client, f"{base}/order/details", {"seat_id": seats}, headers=HX)
        assert details.status_code == 200 and 'data-testid="order-details"' in details.text
        assert details.text.count('data-testid="ticket-s') == 2 and "池座 1排1座" in details.text
        assert 'data-testid="quote-total">¥1,000.00<' in details.text
        assert 'data-testid="refund-rules"' in details.text
        assert await Order.count() == 0  # the preview holds nothing
        placed = await post_form(client, f"{base}/orders", {"seat_id": seats, **BUYER_FORM}, headers=HX)
        assert placed.status_code == 201, placed.text
        order = await Order.select().first()
        assert placed.headers["hx-redirect"] == f"/sales/orders/{order['code']}"
        assert order["status"] == "held" and order["channel"] == "box_office" and order["total_fen"] == 100000
        assert order["seller"] is not None and order["expires_at"] is not None
        assert await _held_seats(ids["seated_session"]) == set(seats)
        page = await client.get(f"/sales/orders/{order['code']}")
        assert 'data-testid="countdown"' in page.text and 'data-testid="pay-form"' in page.text
        assert 'data-status="held"' in page.text and "¥1,000.00" in page.text
        assert "13800138000" not in page.text  # buyer details only on request


async def test_seat_labels_follow_the_sellers_language():
    """One seat format everywhere at the window, in the seller's language: the plan, the order panel and the
    order page."""
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    base = f"/sales/sessions/{ids['seated_session']}"
    async with staff_client(Role.SELLER, "seller1") as client:
        placed = await post_form(client, f"{base}/orders", {"seat_id": [seat], **BUYER_FORM}, headers=HX)
        order_page = placed.headers["hx-redirect"]
        for language, first, second in (
            ("zh_CN", "池座 1排1座", "池座 1排2座"),
            ("en", "池座 row 1, seat 1", "池座 row 1, seat 2"),
        ):
            client.cookies.set("lang", language)
            plan = await client.get(base)
            assert f'title="{first} · VIP · ' in plan.text and f'data-label="{second}"' in plan.text, language
            details = await post_form(client, f"{base}/order/details", {"seat_id": [ids["vip_seats"][1]]}, headers=HX)
            assert f"<strong>{second}</strong>" in details.text, language
            order = await client.get(order_page)
            assert f"<td>VIP · {first}</td>" in order.text, language  # the class, then the seat
            assert ("排" in order.text) == (language == "zh_CN")


async def test_bad_input_is_an_on_page_error_and_nothing_is_written():
    ids = await sales_catalog()
    base = f"/sales/sessions/{ids['seated_session']}"
    async with staff_client(Role.SELLER, "seller1") as client:
        empty = await post_form(client, f"{base}/order/details", {}, headers=HX)
        assert empty.status_code == 422 and "请先在座位图上选座或填写张数。" in empty.text
        assert 'data-testid="order-tickets"' in empty.text
        no_phone = await post_form(
            client, f"{base}/orders", {"seat_id": [ids["vip_seats"][0]], **BUYER_FORM, "buyer_phone": "abc"}, headers=HX
        )
        assert no_phone.status_code == 422 and "请填写购票人手机号" in no_phone.text
        assert (
            'data-testid="order-details"' in no_phone.text and 'value="王小明"' in no_phone.text
        )  # the form keeps what was typed
        ga = f"/sales/sessions/{ids['ga_session']}"
        bad_qty = await post_form(client, f"{ga}/order/details", {f"qty_{ids['ga_class']}": "two"}, headers=HX)
        assert bad_qty.status_code == 422 and "two 不是整数" in bad_qty.text
        huge = await post_form(client, f"{ga}/order/details", {f"qty_{ids['ga_class']}": "100000"}, headers=HX)
        assert huge.status_code == 422 and "200" in huge.text and 'aria-invalid="true"' in huge.text
        full = await post_form(client, f"{ga}/orders", {f"qty_{ids['ga_class']}": "51", **BUYER_FORM}, headers=HX)
        assert full.status_code == 409 and "已售罄" in full.text and 'data-testid="order-tickets"' in full.text
    assert await Order.count() == 0 and await OrderItem.count() == 0
    assert await _held_seats(ids["seated_session"]) == set()


async def test_seat_taken_meanwhile_brings_back_the_fresh_plan_with_a_message():
    ids = await sales_catalog()
    taken, wanted = ids["vip_seats"][0], ids["vip_seats"][1]
    base = f"/sales/sessions/{ids['seated_session']}"
    async with staff_client(Role.SELLER, "seller1") as client:
        await post_form(client, f"{base}/order/details", {"seat_id": [taken, wanted]}, headers=HX)
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="partner",
            buyer=BUYER,
            items=[ItemRequest(seat_id=taken)],
        )
        clash = await post_form(client, f"{base}/orders", {"seat_id": [taken, wanted], **BUYER_FORM}, headers=HX)
        assert clash.status_code == 409
        assert "您选的座位刚被占用，请选择其他座位。" in clash.text and "Traceback" not in clash.text
        assert 'id="plan"' in clash.text and f'data-keep="[{wanted}]"' in clash.text  # the free pick is kept
        assert f'value="{taken}" aria-label="池座 1排1座" disabled' in clash.text
    assert await Order.count() == 1  # only the other channel's order


async def test_concession_needs_the_checked_id_and_goes_to_audit():
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    base = f"/sales/sessions/{ids['seated_session']}"
    form = {"seat_id": [seat], **BUYER_FORM, f"conc_s{seat}": "student"}
    async with staff_client(Role.SELLER, "seller1") as client:
        preview = await post_form(client, f"{base}/order/details", form, headers=HX)
        assert 'data-testid="quote-total">¥250.00<' in preview.text and f'data-testid="idno-s{seat}"' in preview.text
        assert 'data-testid="needs-audit"' in preview.text and "学生证（全日制在校生）" in preview.text
        no_id = await post_form(client, f"{base}/orders", form, headers=HX)
        assert no_id.status_code == 422 and "请先登记已查验的证件，才能按优惠价售票。" in no_id.text
        assert await Order.count() == 0 and await _held_seats(ids["seated_session"]) == set()
        placed = await post_form(
            client,
            f"{base}/orders",
            {**form, f"idtype_s{seat}": "student_card", f"idno_s{seat}": "S2026000123"},
            headers=HX,
        )
        assert placed.status_code == 201
    order = await Order.select().first()
    item = await OrderItem.select().first()
    assert order["status"] == "awaiting_audit" and order["total_fen"] == 25000
    assert item["concession"] == "student" and item["id_type"] == "student_card" and item["id_masked"] == "S202***0123"


async def test_group_discount_is_shown_and_applied():
    ids = await sales_catalog()
    ga = f"/sales/sessions/{ids['ga_session']}"
    form = {f"qty_{ids['ga_class']}": "10", **BUYER_FORM}
    async with staff_client(Role.SELLER, "seller1") as client:
        nine = await post_form(client, f"{ga}/order/details", {**form, f"qty_{ids['ga_class']}": "9"}, headers=HX)
        assert "10 张及以上的团体享受 10% 优惠。" in nine.text and 'data-testid="group-discount"' not in nine.text
        preview = await post_form(client, f"{ga}/order/details", form, headers=HX)
        assert "团体优惠：10 张，优惠 10%" in preview.text and 'data-testid="quote-total">¥450.00<' in preview.text
        placed = await post_form(client, f"{ga}/orders", form, headers=HX)
        assert placed.status_code == 201
    order = await Order.select().first()
    assert order["status"] == "awaiting_audit" and order["total_fen"] == 45000 and order["group_size"] == 10


async def test_only_sellers_place_orders():
    ids = await sales_catalog()
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        refused = await post_form(
            client, f"/sales/sessions/{ids['seated_session']}/orders", {"seat_id": [ids["seats"][0]], **BUYER_FORM}
        )
        assert refused.status_code == 403
        assert (await client.get(f"/sales/sessions/{ids['seated_session']}/order")).status_code == 403
    assert await Order.count() == 0


async def test_many_windows_selling_the_same_seat_at_once_sell_it_once():
    ids = await sales_catalog()
    seat = ids["vip_seats"][2]
    url = f"/sales/sessions/{ids['seated_session']}/orders"
    async with staff_client(Role.SELLER, "seller1") as client:
        answers = await asyncio.gather(
            *[post_form(client, url, {"seat_id": [seat], **BUYER_FORM}, headers=HX) for _ in range(12)]
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 11, codes
    assert all("您选的座位刚被占用" in a.text for a in answers if a.status_code == 409)
    assert await Order.count() == 1 and await _held_seats(ids["seated_session"]) == {seat}
