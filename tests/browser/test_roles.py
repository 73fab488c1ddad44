"""In a real browser (R2.2): each role signs in through the login form and reaches its home page; the
language switches between Chinese and English; a role without a permission sees the 403 page."""

from __future__ import annotations

import pytest

from db.staff.permissions import Role
from tests.helpers import make_staff


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_signs_in_and_reaches_its_home(page, sign_in_page, role):
    await make_staff(role, f"{role.value}_web")
    await sign_in_page(page, f"{role.value}_web")
    await page.locator(f"[data-testid='home-{role.value}']").wait_for(state="attached")
    await page.locator("[data-testid='home-title']").wait_for()  # visible: 欢迎，…
    assert page.url.endswith("/")
    # The Secure, HttpOnly session cookie was accepted over http://127.0.0.1 (a trustworthy origin) and sent back.
    cookie = next(c for c in await page.context.cookies() if c["name"] == "tc_session")
    assert cookie["secure"] and cookie["httpOnly"]


async def test_language_switches_to_english_and_back(page, sign_in_page):
    await make_staff(Role.SELLER, "lina")
    await sign_in_page(page, "lina")
    sign_out = page.locator("header form[action='/logout'] button")
    assert (await sign_out.inner_text()).strip() == "退出"
    async with page.expect_navigation():
        await page.click("[data-testid='lang-en']")
    assert (await sign_out.inner_text()).strip() == "Sign out"
    assert await page.locator("html").get_attribute("lang") == "en"
    async with page.expect_navigation():
        await page.click("[data-testid='lang-zh_CN']")
    assert (await sign_out.inner_text()).strip() == "退出"


async def test_seller_opening_staff_admin_sees_the_403_page(page, sign_in_page):
    await make_staff(Role.SELLER, "lina")
    await sign_in_page(page, "lina")
    response = await page.goto("/staff")
    assert response.status == 403
    message = await page.locator("[data-testid='error-message']").inner_text()
    assert "您的角色无权进行此操作" in message
    assert "Traceback" not in await page.content()
    await page.locator("a[href='/']", has_text="返回首页").wait_for()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
async def test_sign_in_works_on_a_phone(page, sign_in_page):
    await make_staff(Role.GATE, "chenjie")
    await sign_in_page(page, "chenjie")
    await page.locator("[data-testid='home-gate']").wait_for(state="attached")
    assert await page.locator("[data-testid='home-title']").is_visible()
