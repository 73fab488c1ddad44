"""The box office in headless Chromium on a tablet (R3.4-R3.6, R1.2): a seller sells two seats for cash from
the seat plan; a concession order waits for an auditor, who approves it in another browser, and the
seller's page updates by itself; the tickets' QR codes, read from screenshots, decode and verify."""

from __future__ import annotations

import cv2
import numpy as np

from db.sales.tables import Ticket
from db.sales.tickets.codes import keyring
from db.staff.permissions import Role
from scanner.decode import decode_frame
from tests.helpers import make_staff
from tests.sales.support import sales_catalog

SHOTS = "/tmp/box-office-{name}.png"


async def _qr_texts(page) -> list[str]:
    """Each ticket's QR image as the screen shows it, decoded."""
    texts = []
    for image in await page.locator("[data-testid=ticket-qr]").all():
        await image.scroll_into_view_if_needed()
        shot = await image.screenshot()
        frame = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
        texts += decode_frame(frame)
    return texts


async def _pick_seats_and_hold(page, seat_ids: list[int]) -> None:
    for seat_id in seat_ids:
        await page.locator(f"#plan label.seat[data-seat-id='{seat_id}']").click()
    assert await page.locator("[data-testid=picked-count]").inner_text() == str(len(seat_ids))
    await page.click("[data-testid=next]")
    await page.locator("[data-testid=order-details]").wait_for()
    await page.fill("[data-testid=buyer-name]", "王小明")
    await page.fill("[data-testid=buyer-phone]", "13800138000")


async def test_seller_sells_two_seats_for_cash_from_the_plan(page, sign_in_page):
    ids = await sales_catalog()
    await make_staff(Role.SELLER, "lina_b")
    await sign_in_page(page, "lina_b")
    await page.goto("/sales/sessions")
    await page.screenshot(path=SHOTS.format(name="sessions"), full_page=True)
    async with page.expect_navigation():
        await page.click(f"[data-testid=session-{ids['seated_session']}] a.session-link")
    seats = ids["vip_seats"][1:3]
    await page.locator("#plan").wait_for()
    await page.screenshot(path=SHOTS.format(name="plan"), full_page=True)
    await _pick_seats_and_hold(page, seats)
    assert await page.locator("[data-testid=quote-total]").inner_text() == "¥1,000.00"
    await page.screenshot(path=SHOTS.format(name="details"), full_page=True)
    async with page.expect_navigation():
        await page.click("[data-testid=hold]")
    assert "/sales/orders/" in page.url
    await page.locator("[data-testid=countdown]").wait_for()
    await page.fill("[data-testid=tendered]", "1000")
    await page.fill("[data-testid=tendered]", "900")
    assert "少于应收金额" in await page.locator("[data-testid=change-preview]").inner_text()
    await page.fill("[data-testid=tendered]", "1200")
    assert "¥200.00" in await page.locator("[data-testid=change-preview]").inner_text()
    await page.screenshot(path=SHOTS.format(name="pay"), full_page=True)
    await page.check("[data-testid=received]")
    await page.click("[data-testid=confirm-payment]")
    await page.locator("[data-testid=message]", has_text="请找零：¥200.00").wait_for()
    assert await page.locator("[data-testid=ticket-card]").count() == 2
    await page.screenshot(path=SHOTS.format(name="paid"), full_page=True)
    codes = {t["code"]: t for t in await Ticket.select(Ticket.id, Ticket.code, Ticket.seat)}
    texts = await _qr_texts(page)
    assert sorted(texts) == sorted(codes)
    for text in texts:
        claim = keyring().verify(text)
        assert claim is not None and claim.ticket_id == codes[text]["id"] and claim.session_id == ids["seated_session"]
        assert not claim.concession and codes[text]["seat"] in seats


async def test_auditor_approves_a_concession_order_and_the_seller_takes_the_payment(
    page, browser, live_server, sign_in_page
):
    ids = await sales_catalog()
    await make_staff(Role.SELLER, "lina_b")
    await make_staff(Role.AUDITOR, "wang_b")
    await sign_in_page(page, "lina_b")
    await page.goto(f"/sales/sessions/{ids['seated_session']}")
    seat = ids["vip_seats"][0]
    await _pick_seats_and_hold(page, [seat])
    await page.select_option(f"[data-testid=conc-s{seat}]", "student")  # the preview re-renders with the ID fields
    await page.locator(f"[data-testid=idno-s{seat}]").wait_for()
    assert await page.locator("[data-testid=quote-total]").inner_text() == "¥250.00"
    await page.click("[data-testid=hold]")  # no ID recorded yet: refused on the page
    await page.locator("[data-testid=form-error]", has_text="请先登记已查验的证件").wait_for()
    await page.select_option(f"[data-testid=idtype-s{seat}]", "student_card")
    await page.fill(f"[data-testid=idno-s{seat}]", "S2026000123")
    await page.screenshot(path=SHOTS.format(name="concession"), full_page=True)
    async with page.expect_navigation():
        await page.click("[data-testid=hold]")
    await page.locator("[data-testid=awaiting-audit]").wait_for()
    code = page.url.rsplit("/", 1)[1]

    auditor_context = await browser.new_context(
        base_url=live_server,
        viewport={"width": 1024, "height": 768},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        has_touch=True,
    )
    auditor = await auditor_context.new_page()
    try:
        await sign_in_page(auditor, "wang_b")
        await auditor.goto("/sales/audit")
        card = auditor.locator(f"[data-testid=audit-{code}]")
        assert "S202***0123" in await card.inner_text()
        await auditor.screenshot(path=SHOTS.format(name="audit"), full_page=True)
        await auditor.click(f"[data-testid=approve-{code}]")
        await auditor.locator("[data-testid=message]", has_text=code).wait_for()
    finally:
        await auditor_context.close()

    await page.locator("[data-testid=order-status][data-status=awaiting_payment]").wait_for(timeout=12_000)  # polled
    await page.click("[data-testid=method-card]")
    assert await page.locator("[data-testid=tendered]").is_hidden()
    await page.fill("[data-testid=terminal-reference]", "000731")  # the card terminal's slip (issue 12)
    await page.click("[data-testid=confirm-payment]")
    await page.locator("[data-testid=ticket-card]").wait_for()
    [text] = await _qr_texts(page)
    claim = keyring().verify(text)
    assert claim is not None and claim.concession and claim.session_id == ids["seated_session"]


async def test_picks_survive_the_plan_refresh_and_best_seats_together_are_ticked(page, sign_in_page):
    ids = await sales_catalog()
    await make_staff(Role.SELLER, "lina_b")
    await sign_in_page(page, "lina_b")
    await page.goto(f"/sales/sessions/{ids['seated_session']}")
    picked = ids["vip_seats"][4]
    await page.locator(f"#plan label.seat[data-seat-id='{picked}']").click()
    async with page.expect_response(lambda r: "/plan" in r.url):  # the polled refresh replaces the plan
        pass
    await page.wait_for_timeout(300)
    assert await page.locator(f"#plan input[value='{picked}']").is_checked()
    assert await page.locator("[data-testid=picked-count]").inner_text() == "1"
    await page.fill(f"[data-testid=best-n-{ids['a_class']}]", "3")
    async with page.expect_response(lambda r: f"best_class={ids['a_class']}" in r.url):
        await page.press(f"[data-testid=best-n-{ids['a_class']}]", "Enter")  # picks, does not submit the order form
    await page.wait_for_timeout(300)
    checked = await page.locator("#plan input[name=seat_id]:checked").evaluate_all(
        "boxes => boxes.map(b => Number(b.value))"
    )
    assert len(checked) == 3 and not set(checked) & set(ids["vip_seats"])
    assert await page.locator("[data-testid=order-tickets]").is_visible()
