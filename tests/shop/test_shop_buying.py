"""Buying in the public shop over HTTP (R3.3 online channel, R3.4, R3.2, R5.1): browsing, general
admission and seats, the sandbox checkout and callback, seats taken meanwhile, late payments."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import re

from db.catalog.operations import schedule_price_change
from db.catalog.tables import PriceClass, SessionSeat
from db.sales.payments.operations import start_online_payment
from db.sales.payments.providers import provider
from db.sales.tables import Order, Ticket
from db.sales.tickets.codes import keyring
from tests.helpers import ADMIN_ACTOR, post_form, utc
from tests.shop.support import hold, order_code, pay_through_checkout, sales_catalog, shop_client
from tests.smtp import smtp_server


async def test_events_by_kind_and_date_and_the_htmx_partial():
    ids = await sales_catalog()
    async with shop_client() as client:
        page = await client.get("/shop")
        assert page.status_code == 200 and "<html" in page.text
        assert "测试演出" in page.text and "测试景区" in page.text
        attractions = await client.get("/shop", params={"kind": "attraction"}, headers={"hx-request": "true"})
        assert "<html" not in attractions.text
        assert f"/shop/sessions/{ids['ga_session']}" in attractions.text and "测试演出" not in attractions.text
        ga_date = (utc(days=1) + dt.timedelta(hours=8)).date().isoformat()
        on_day = await client.get("/shop", params={"date": ga_date})
        assert f"/shop/sessions/{ids['ga_session']}" in on_day.text
        assert f"/shop/sessions/{ids['seated_session']}" not in on_day.text
        nothing = await client.get("/shop", params={"date": "2001-01-01"})
        assert 'data-testid="no-sessions"' in nothing.text


async def test_session_page_shows_prices_the_price_notice_the_plan_and_the_rules():
    ids = await sales_catalog()
    await schedule_price_change(ADMIN_ACTOR, ids["vip_class"], 58000, utc(days=2), "元旦起VIP票价调整")
    async with shop_client() as client:
        page = await client.get(f"/shop/sessions/{ids['seated_session']}")
    text = page.text
    assert page.status_code == 200
    assert "¥500.00" in text and "¥200.00" in text  # prices in force now
    assert 'data-testid="price-notice"' in text and "元旦起VIP票价调整" in text and "¥580.00" in text
    assert text.count('name="seat_id"') == 10
    assert 'data-testid="refund-rules"' in text and "5%" in text and "20%" in text
    assert 'name="_csrf_token"' in text


async def test_buy_general_admission_pay_and_receive_the_email(monkeypatch):
    ids = await sales_catalog()
    with smtp_server(monkeypatch) as mailbox:
        async with shop_client() as client:
            code = order_code(await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "3"}))
            held = await client.get(f"/shop/orders/{code}")
            assert 'data-status="held"' in held.text and "¥150.00" in held.text
            page = await pay_through_checkout(client, code)
            pdf = await client.get(f"/shop/orders/{code}/tickets.pdf")
            status = await client.get(f"/shop/orders/{code}/email-status", headers={"hx-request": "true"})
    assert 'data-status="paid"' in page.text
    assert page.text.count('data-testid="ticket"') == 3 and page.text.count("<svg") >= 3
    ga = await PriceClass.select(PriceClass.name).where(PriceClass.id == ids["ga_class"]).first()
    ticket = page.text.split('data-testid="ticket"')[1].split("</li>")[0]
    assert ticket.count(ga["name"]) == 1 and "¥50.00" in ticket  # a standing ticket names its class once (issue 15)
    assert 'data-testid="email-sent"' in page.text  # sent after the checkout's answer, before the next page
    assert 'data-testid="email-sent"' in status.text and "<html" not in status.text and "hx-trigger" not in status.text
    assert 'data-testid="refund-cost"' in page.text
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf.headers["cache-control"] == "private, no-store"
    )
    order = await Order.select().where(Order.code == code).first()
    assert (order["channel"], order["status"], order["total_fen"]) == ("web_shop", "paid", 15000)
    tickets = await Ticket.select(Ticket.code).where(Ticket.order == order["id"])
    assert all(keyring().verify(t["code"]) for t in tickets)
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["xiaoming@example.cn"]
    message = email.message_from_bytes(mailbox.messages[0].content)
    assert code in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert any(part.get_content_type() == "application/pdf" for part in message.walk())


async def test_buy_two_seats_and_the_status_history():
    ids = await sales_catalog()
    a, b = ids["vip_seats"][:2]
    async with shop_client() as client:
        code = order_code(await hold(client, ids["seated_session"], seat_id=[str(a), str(b)]))
        page = await pay_through_checkout(client, code)
    assert 'data-status="paid"' in page.text and page.text.count('data-testid="ticket"') == 2
    history = re.findall(r'<li data-status="(\w+)">', page.text)
    assert history == ["held", "paid"]
    sold = await SessionSeat.select(SessionSeat.seat).where(SessionSeat.status == "sold")
    assert {s["seat"] for s in sold} == {a, b}


async def test_seat_labels_follow_the_customers_language_and_the_email_stays_chinese(monkeypatch):
    ids = await sales_catalog()
    with smtp_server(monkeypatch) as mailbox:
        async with shop_client() as client:
            client.cookies.set("lang", "en")
            plan = await client.get(f"/shop/sessions/{ids['seated_session']}")
            code = order_code(await hold(client, ids["seated_session"], seat_id=str(ids["vip_seats"][0])))
            english = await pay_through_checkout(client, code)
            client.cookies.set("lang", "zh_CN")
            chinese = await client.get(f"/shop/orders/{code}")
    assert 'data-label="池座 row 1, seat 1"' in plan.text and 'aria-label="池座 row 1, seat 2"' in plan.text
    assert english.text.count("池座 row 1, seat 1") == 2 and "排" not in english.text  # the ticket and the order line
    assert chinese.text.count("池座 1排1座") == 2
    message = email.message_from_bytes(mailbox.messages[0].content, policy=email.policy.default)
    assert "池座 1排1座: " in message.get_body(("plain",)).get_content()


async def test_a_seat_taken_meanwhile_gives_a_clear_message_and_a_fresh_plan():
    ids = await sales_catalog()
    a, b = ids["vip_seats"][:2]
    async with shop_client(address="198.51.100.1") as first, shop_client(address="198.51.100.2") as second:
        order_code(await hold(first, ids["seated_session"], seat_id=str(a)))
        lost = await hold(second, ids["seated_session"], seat_id=[str(a), str(b)], name="李四")
        swapped = await hold(
            second, ids["seated_session"], seat_id=[str(a)], name="李四", headers={"hx-request": "true"}
        )
    assert lost.status_code == 409 and "<html" in lost.text
    assert "刚被" in lost.text or "just taken" in lost.text
    assert re.search(rf'value="{a}"[^>]*disabled', lost.text), "the taken seat is shown taken"
    assert 'value="李四"' in lost.text  # what the customer typed is kept
    assert 'data-chosen="' in lost.text and str(b) in re.search(r'data-chosen="([^"]*)"', lost.text).group(1)
    assert swapped.status_code == 409 and "<html" not in swapped.text and 'data-testid="buy-form"' in swapped.text
    assert await Order.count() == 1 and await SessionSeat.count().where(SessionSeat.status == "held") == 1


async def test_many_customers_racing_for_one_seat_one_wins():
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    clients = [shop_client(address=f"192.0.2.{i}") for i in range(1, 13)]
    try:
        results = await asyncio.gather(*(hold(c, ids["seated_session"], seat_id=str(seat)) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert sorted(r.status_code for r in results) == [303] + [409] * 11
    assert await Order.count() == 1
    assert await SessionSeat.count().where((SessionSeat.seat == seat) & (SessionSeat.status == "held")) == 1


async def test_bad_input_is_refused_on_the_form_and_nothing_is_held():
    ids = await sales_catalog()
    async with shop_client() as client:
        no_rules = await hold(client, ids["ga_session"], accept_rules="", **{f"qty_{ids['ga_class']}": "1"})
        nothing = await hold(client, ids["ga_session"])
        bad_phone = await hold(client, ids["ga_session"], phone="abc", **{f"qty_{ids['ga_class']}": "1"})
        no_email = await hold(client, ids["ga_session"], email="", **{f"qty_{ids['ga_class']}": "1"})
        too_many = await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "11"})
        no_csrf = await client.post(f"/shop/sessions/{ids['ga_session']}/order", data={"name": "x"})
    for response in (no_rules, nothing, bad_phone, no_email, too_many):
        assert response.status_code == 422 and 'data-testid="form-error"' in response.text
    assert no_csrf.status_code == 403
    assert await Order.count() == 0


async def test_concession_order_waits_for_the_audit():
    ids = await sales_catalog()
    async with shop_client() as client:
        code = order_code(
            await hold(
                client,
                ids["ga_session"],
                concession="student",
                concession_count="1",
                id_type="student_card",
                id_number="S20260001",
                **{f"qty_{ids['ga_class']}": "2"},
            )
        )
        page = await client.get(f"/shop/orders/{code}")
    assert 'data-status="awaiting_audit"' in page.text and 'data-testid="audit-note"' in page.text
    assert 'data-testid="pay-now"' not in page.text
    assert (await Order.select(Order.total_fen).where(Order.code == code).first())["total_fen"] == 2500 + 5000


async def test_the_sandbox_callback_pays_a_shop_order():
    ids = await sales_catalog()
    async with shop_client() as client:
        code = order_code(await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1"}))
        checkout = await start_online_payment(ADMIN_ACTOR, code)
        body, signature = provider("sandbox").callback_body(checkout.reference, code, 5000)
        forged = await client.post(
            "/api/payments/sandbox/callback", content=body, headers={"x-sandbox-signature": "0" * 64}
        )
        notice = await client.post(
            "/api/payments/sandbox/callback", content=body, headers={"x-sandbox-signature": signature}
        )
        again = await client.post(
            "/api/payments/sandbox/callback", content=body, headers={"x-sandbox-signature": signature}
        )
        page = await client.get(f"/shop/orders/{code}")
    assert forged.status_code == 422
    assert notice.json()["outcome"] == "accepted" and again.json()["outcome"] == "ignored"
    assert 'data-status="paid"' in page.text and page.text.count('data-testid="ticket"') == 1


async def _expire(code: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    await Order.update({Order.expires_at: past}).where(Order.code == code)
    await SessionSeat.update({SessionSeat.held_until: past}).where(SessionSeat.hold_ref == code)


async def test_payment_after_the_hold_expired_reholds_free_seats_and_says_so():
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    async with shop_client() as client:
        code = order_code(await hold(client, ids["seated_session"], seat_id=str(seat)))
        started = await post_form(client, f"/shop/orders/{code}/pay")
        await _expire(code)
        await post_form(client, started.headers["location"])
        page = await client.get(f"/shop/orders/{code}")
    assert 'data-status="paid"' in page.text and 'data-testid="outcome"' in page.text
    assert "still free" in page.text or "仍未售出" in page.text
    assert re.findall(r'<li data-status="(\w+)">', page.text) == ["held", "expired", "paid"]


async def test_payment_after_the_hold_expired_and_the_seat_was_sold_is_refunded_and_says_so():
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    async with shop_client(address="198.51.100.10") as late, shop_client(address="198.51.100.11") as other:
        code = order_code(await hold(late, ids["seated_session"], seat_id=str(seat)))
        started = await post_form(late, f"/shop/orders/{code}/pay")
        await _expire(code)
        order_code(
            await hold(other, ids["seated_session"], seat_id=str(seat))
        )  # the released seat goes to someone else
        await post_form(late, started.headers["location"])
        page = await late.get(f"/shop/orders/{code}")
    assert 'data-status="refunded"' in page.text and 'data-testid="outcome"' in page.text
    assert "¥500.00" in page.text
    assert await Ticket.count() == 0


async def test_a_customer_cancels_a_held_order_and_the_seat_is_free_again():
    ids = await sales_catalog()
    seat = ids["vip_seats"][0]
    async with shop_client() as client:
        code = order_code(await hold(client, ids["seated_session"], seat_id=str(seat)))
        cancelled = await post_form(client, f"/shop/orders/{code}/cancel")
        page = await client.get(f"/shop/orders/{code}")
    assert cancelled.status_code == 303 and 'data-status="cancelled"' in page.text
    assert (await SessionSeat.select(SessionSeat.status).where(SessionSeat.seat == seat).first())["status"] == "free"
