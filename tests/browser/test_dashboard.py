"""The supervisors' live entry dashboard in headless Chromium (issue 4): it updates by itself, within a
second, when a turnstile redeems tickets through the JSON API (another client, the app's own process
records the scan; on PostgreSQL the update travels through NOTIFY): admitted, inside now, the gate's
counts, the entries-per-minute chart and the latest refusals."""

from __future__ import annotations

import time

import httpx

from db.gate.devices import register_device
from db.staff.permissions import Role
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import ADMIN_ACTOR, make_staff

TOKEN = "turnstile-token-g2-0001"


async def test_dashboard_updates_live_after_redeems_through_the_json_api(page, sign_in_page, live_server):
    world = await open_venue()
    tickets = [await issue_ticket(world["session"]) for _ in range(2)]
    await register_device(ADMIN_ACTOR, "G-2", "二号闸机", TOKEN)
    await make_staff(Role.SUPERVISOR, "zhang")
    await sign_in_page(page, "zhang")
    await page.goto(f"/gate/live/{world['session']}")
    await page.locator("#live-state[data-state='live']").wait_for()
    admitted = page.locator("[data-testid='admitted']")
    assert await admitted.inner_text() == "0"

    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {TOKEN}"}) as turnstile:
        for number, ticket in enumerate(tickets, start=1):
            response = await turnstile.post("/api/v1/checkin/redeem", json={"code": ticket["code"]})
            assert response.json()["status"] == "ok"
            answered = time.monotonic()
            await page.wait_for_function(
                "n => document.querySelector(\"[data-testid='admitted']\").textContent.trim() === String(n)", arg=number
            )
            assert time.monotonic() - answered < 1.0
        refused = await turnstile.post("/api/v1/checkin/redeem", json={"code": tickets[0]["code"]})
        assert refused.json()["status"] == "already_redeemed"

    await page.locator("[data-testid='rejections'] li[data-status='already_redeemed']").wait_for()
    assert await page.locator("[data-testid='inside']").inner_text() == "2"
    assert await page.locator("tr[data-gate='G-2'] [data-col='entries']").inner_text() == "2"
    assert await page.locator("tr[data-gate='G-2'] [data-col='rejected']").inner_text() == "1"
    chart_total = await page.evaluate(
        "() => Chart.getChart(document.getElementById('per-minute-chart'))"
        ".data.datasets[0].data.reduce((a, b) => a + b, 0)"
    )
    assert chart_total == 2
    await page.screenshot(path="/tmp/gate-dashboard.png", full_page=True)
