"""Customer data in the browser (issue 14, R6.3): on an order's page the seller opens the buyer's details,
sees the phone masked and, after giving a purpose, in full; the reveal is logged."""

from __future__ import annotations

from db.privacy.tables import Reveal
from db.staff.permissions import Role
from tests.helpers import make_staff
from tests.privacy.support import paid_orders
from tests.sales.support import sales_catalog


async def test_a_seller_reveals_a_phone_with_a_purpose_on_the_order_page(page, sign_in_page):
    ids = await sales_catalog()
    code = (await paid_orders(ids["ga_session"], ids["ga_class"]))[0]
    await make_staff(Role.SELLER, "lina_r")
    await sign_in_page(page, "lina_r")
    await page.goto(f"/sales/orders/{code}")
    await page.click("[data-testid=show-buyer]")
    masked = page.locator("[data-testid=masked-phone]")
    await masked.wait_for()
    assert await masked.inner_text() == "138****8000"
    phone = page.locator("[data-testid=reveal-phone]")
    await phone.locator("input[name=purpose]").fill("客户来电核对")
    await phone.locator("button[type=submit]").click()
    shown = page.locator("[data-testid=revealed-phone]")
    await shown.wait_for()
    assert await shown.inner_text() == "13800138000"
    await page.screenshot(path="/tmp/reveal-phone.png", full_page=True)
    assert await Reveal.count() == 1
