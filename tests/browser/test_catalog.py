"""The catalog and audit-log pages in Chromium on a tablet: HTMX filters swap their partials, the seat
plan tells the tapped seat, the session form fills in when the venue is chosen (R3.1, R6.3)."""

from __future__ import annotations

from db.staff.permissions import Role
from tests.helpers import make_staff, small_catalog


async def _supervisor(page, sign_in_page) -> dict:
    ids = await small_catalog()
    await make_staff(Role.SUPERVISOR, "zhangwei")
    await sign_in_page(page, "zhangwei")
    return ids


async def test_kind_filter_swaps_the_event_table(page, sign_in_page):
    await _supervisor(page, sign_in_page)
    await page.goto("/catalog/events")
    table = page.locator("#events-table")
    assert "测试演出" in await table.inner_text() and "测试景区" in await table.inner_text()
    await page.locator("label.pill", has_text="景点门票").click()
    await page.wait_for_url("**/catalog/events?kind=attraction")
    await page.locator("#events-table >> text=测试演出").wait_for(state="detached")
    assert "测试景区" in await table.inner_text()


async def test_tapping_a_seat_tells_its_label_and_class(page, sign_in_page):
    ids = await _supervisor(page, sign_in_page)
    await page.goto(f"/catalog/venues/{ids['theatre']}")
    await page.locator(".seat-plan .seat[data-label='池座 2排3座']").click()
    assert await page.locator("[data-testid='seat-info']").inner_text() == "池座 2排3座 · A · 可售"


async def test_choosing_the_venue_fills_the_session_form(page, sign_in_page):
    ids = await _supervisor(page, sign_in_page)
    await page.goto(f"/catalog/events/{ids['show']}/sessions/new")
    await page.select_option("[data-testid='venue-select']", str(ids["theatre"]))
    form = page.locator("[data-testid='session-form']")
    await form.wait_for()
    assert await form.locator("select[name='pc_seat_class_0']").input_value() == "A"
    assert await form.locator("input[name='gate_ids']").count() == 2


async def test_audit_log_filter_swaps_the_results(page, sign_in_page):
    await _supervisor(page, sign_in_page)
    await page.goto("/auditlog")
    await page.fill("input[name='action']", "gate.")
    await page.click("[data-testid='audit-filter'] button[type=submit]")
    await page.wait_for_url("**/auditlog?action=gate.*")
    rows = page.locator("[data-testid='audit-entry']")
    await page.locator("[data-testid='audit-entry'][data-action='venue.create']").wait_for(state="detached")
    actions = {await rows.nth(i).get_attribute("data-action") for i in range(await rows.count())}
    assert actions == {"gate.create"}
    assert await page.input_value("input[name='action']") == "gate."


async def test_the_browsers_own_checks_speak_the_pages_language(page, sign_in_page, live_server):
    """Issue 15: the browser is set to Chinese, the page to English; a required field left empty and a number
    below its minimum are worded from the page's catalog, then in Chinese once the page is."""
    await _supervisor(page, sign_in_page)
    for language, empty, too_small in (
        ("en", "Fill in this field.", "The number must be at least 1."),
        ("zh_CN", "请填写此项。", "数字不能小于 1。"),
    ):
        await page.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
        await page.goto("/catalog/events")
        await page.click("#new-event summary")
        await page.fill("input[name=duration_minutes]", "0")
        await page.click("#new-event button[type=submit]")
        name = page.locator("#new-event input[name=name]")
        assert await name.evaluate("e => e.validationMessage") == empty
        await name.fill("茶花女")
        await page.click("#new-event button[type=submit]")
        duration = page.locator("#new-event input[name=duration_minutes]")
        assert await duration.evaluate("e => e.validationMessage") == too_small
        assert page.url.endswith("/catalog/events")  # the browser kept the form: nothing was sent
