"""The public shop in headless Chromium on a phone (R3.4, R5.1, R1.2): a customer buys two seats, pays
on the sandbox checkout and receives the e-mail from the live server through a real local SMTP server;
a second customer racing for the same seat gets the clear message and a fresh plan, not an error page."""

from __future__ import annotations

import asyncio
import email
import os

import pytest

from tests.shop.support import sales_catalog
from tests.smtp import running_smtp_server
from web.shop.grants import GRANT_COOKIE

PHONE = pytest.mark.parametrize("viewport", ["phone"], indirect=True)


@pytest.fixture(scope="module")
def mailbox():
    """A real SMTP server; set in the environment before the live server starts, so the app sends to it."""
    with running_smtp_server() as (box, port):
        saved = {k: os.environ.get(k) for k in ("SMTP_HOST", "SMTP_PORT")}
        os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
        yield box
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def live_server(mailbox, live_server):
    return live_server


async def _choose_seats(page, session_id: int, seats: list[int]) -> None:
    await page.goto(f"/shop/sessions/{session_id}")
    for seat in seats:
        await page.click(f".seat-plan label[data-seat-id='{seat}']")


async def _fill_details(page, name: str, phone: str, mail: str) -> None:
    await page.fill("input[name=name]", name)
    await page.fill("input[name=phone]", phone)
    await page.fill("input[name=email]", mail)
    await page.check("[data-testid='accept-rules']")


@PHONE
async def test_a_customer_buys_two_seats_on_a_phone_and_gets_the_email(page, mailbox):
    ids = await sales_catalog()
    mailbox.messages.clear()
    await page.goto("/shop")
    await page.screenshot(path="/tmp/shop-events.png", full_page=True)
    await page.click(f"[data-testid='session-{ids['seated_session']}']")
    await page.locator("[data-testid='refund-rules']").wait_for()
    for seat in ids["vip_seats"][1:3]:
        await page.click(f".seat-plan label[data-seat-id='{seat}']")
    await _fill_details(page, "王小明", "13800138000", "xiaoming@example.cn")
    await page.screenshot(path="/tmp/shop-session.png", full_page=True)
    async with page.expect_navigation(url="**/shop/orders/*"):
        await page.click("[data-testid='hold']")
    assert await page.locator("[data-testid='order-status']").get_attribute("data-status") == "held"
    await page.screenshot(path="/tmp/shop-held.png", full_page=True)
    async with page.expect_navigation(url="**/shop/checkout/*"):
        await page.click("[data-testid='pay-now']")
    assert (await page.locator("[data-testid='amount']").inner_text()).strip() == "¥1,000.00"
    await page.screenshot(path="/tmp/shop-checkout.png", full_page=True)
    async with page.expect_navigation(url="**/shop/orders/*"):
        await page.click("[data-testid='pay']")
    assert await page.locator("[data-testid='order-status']").get_attribute("data-status") == "paid"
    assert await page.locator("[data-testid='ticket'] svg").count() == 2
    await page.locator("[data-testid='email-sent']").wait_for()
    await page.screenshot(path="/tmp/shop-paid.png", full_page=True)
    code = page.url.rsplit("/", 1)[1]
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["xiaoming@example.cn"]
    message = email.message_from_bytes(mailbox.messages[0].content)
    assert code in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert [p.get_filename() for p in message.walk() if p.get_content_type() == "application/pdf"] == [
        f"tickets-{code}.pdf"
    ]
    # The page fits the phone: nothing wider than the screen but the scrollable seat plan.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


@PHONE
async def test_a_second_customer_racing_for_the_same_seat_gets_a_clear_message_and_a_fresh_plan(
    browser, page, live_server
):
    ids = await sales_catalog()
    seat, other = ids["vip_seats"][0], ids["vip_seats"][4]
    rival_context = await browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True
    )
    rival = await rival_context.new_page()
    try:
        await asyncio.gather(
            _choose_seats(page, ids["seated_session"], [seat, other]),
            _choose_seats(rival, ids["seated_session"], [seat]),
        )
        await _fill_details(page, "李四", "13911112222", "lisi@example.cn")
        await _fill_details(rival, "王五", "13933334444", "wangwu@example.cn")
        async with rival.expect_navigation(url="**/shop/orders/*"):
            await rival.click("[data-testid='hold']")
        await page.click("[data-testid='hold']")
        error = page.locator("[data-testid='form-error']")
        await error.wait_for()
        assert "您选的座位刚被占用" in await error.inner_text()
        await page.screenshot(path="/tmp/shop-taken.png", full_page=True)
        assert "/shop/sessions/" in page.url  # still on the session page: no error page
        assert await page.locator(f"input[name=seat_id][value='{seat}']").is_disabled()
        assert await page.locator(
            f"input[name=seat_id][value='{other}']"
        ).is_checked()  # the rest of the choice is kept
        assert await page.input_value("input[name=name]") == "李四"
        async with page.expect_navigation(url="**/shop/orders/*"):
            await page.click("[data-testid='hold']")
        assert await page.locator("[data-testid='order-status']").get_attribute("data-status") == "held"
    finally:
        await rival_context.close()


@PHONE
async def test_order_lookup_in_english_on_a_phone(page):
    ids = await sales_catalog()
    await page.goto(f"/shop/sessions/{ids['ga_session']}")
    async with page.expect_navigation():
        await page.click("[data-testid='lang-en']")
    await page.fill(f"[data-testid='qty-{ids['ga_class']}']", "2")
    await page.click(".concession summary")
    await page.screenshot(path="/tmp/shop-ga-en.png", full_page=True)
    await _fill_details(page, "Wang Xiaoming", "13800138000", "xiaoming@example.cn")
    async with page.expect_navigation(url="**/shop/orders/*"):
        await page.click("[data-testid='hold']")
    code = page.url.rsplit("/", 1)[1]
    await page.context.clear_cookies(name=GRANT_COOKIE)  # a day later: the 30-minute grant is gone
    await page.goto(f"/o/{code}")
    assert await page.input_value("[data-testid='lookup-code']") == code
    await page.fill("[data-testid='lookup-contact']", "13999999999")
    await page.click("[data-testid='lookup-submit']")
    error = page.locator("[data-testid='form-error']")
    await error.wait_for()
    assert "Check both and try again" in await error.inner_text()
    await page.screenshot(path="/tmp/shop-lookup-error.png", full_page=True)
    await page.fill("[data-testid='lookup-contact']", "xiaoming@example.cn")
    async with page.expect_navigation(url=f"**/shop/orders/{code}"):
        await page.click("[data-testid='lookup-submit']")
    assert await page.locator("[data-testid='order-status']").inner_text() == "Tickets held, waiting for payment"
    assert "xiaoming" not in page.url and "1380013" not in page.url
