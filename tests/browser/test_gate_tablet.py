"""The tablet gate page in headless Chromium with a video file as the camera (issue 4): the video shows a
real issued ticket's QR code, then nothing, then the code again. The page decodes it with zxing-wasm
served from /vendor (every request outside the app is refused, so nothing comes from a CDN), shows
`ok`, counts the code held in front of the camera once, and shows `already_redeemed` when the code
comes back. A keyboard-wedge read works the same way."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import segno
from playwright.async_api import async_playwright

from db.gate.tables import Scan
from db.sales.aftersale.refunds import request_refund
from db.staff.permissions import Role
from tests.aftersale.support import SELLER, paid_in_cash
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORTS
from tests.gate.outage import TcpForwarder
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import make_staff

WIDTH, HEIGHT, FPS = 640, 480, 10


def qr_frame(text: str | None) -> np.ndarray:
    """A grey 640x480 luma frame with the QR code of `text` in the middle (white quiet zone), or blank."""
    luma = np.full((HEIGHT, WIDTH), 200, dtype=np.uint8)
    if text is None:
        return luma
    matrix = np.array(segno.make(text, error="m", micro=False).matrix, dtype=bool)
    scale = (HEIGHT - 40) // (matrix.shape[0] + 8)
    code = np.where(np.kron(matrix, np.ones((scale, scale), dtype=bool)), 0, 255).astype(np.uint8)
    code = np.pad(code, 4 * scale, constant_values=255)
    top, left = (HEIGHT - code.shape[0]) // 2, (WIDTH - code.shape[1]) // 2
    luma[top : top + code.shape[0], left : left + code.shape[1]] = code
    return luma


def write_y4m(path: Path, scenes: list[tuple[str | None, float]]) -> None:
    """A YUV4MPEG2 (I420) video: each scene shows a code (or nothing) for its seconds."""
    chroma = np.full((HEIGHT // 2) * (WIDTH // 2) * 2, 128, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for text, seconds in scenes:
            frame = b"FRAME\n" + qr_frame(text).tobytes() + chroma
            out.write(frame * round(seconds * FPS))


async def scans_of(ticket_id: int) -> list[str]:
    return [r["status"] for r in await Scan.select(Scan.status).where(Scan.ticket == ticket_id).order_by(Scan.id)]


@pytest.fixture
async def camera(live_server):
    """Open a signed-in gate attendant's page with `video` as the camera: `await camera(video, url)`.
    Requests to anything but the app are refused and collected in page.foreign_requests."""
    async with async_playwright() as playwright:
        browsers = []

        async def open_page(video: Path, url: str, viewport: str = "tablet"):
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}",
                ],
            )
            browsers.append(browser)
            width, height = VIEWPORTS[viewport]
            context = await browser.new_context(
                base_url=live_server,
                viewport={"width": width, "height": height},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                has_touch=True,
                permissions=["camera"],
            )
            context.set_default_timeout(20_000)
            page = await context.new_page()
            page.foreign_requests = []

            async def only_the_app(route):
                if route.request.url.startswith(live_server):
                    await route.continue_()
                else:
                    page.foreign_requests.append(route.request.url)
                    await route.abort()

            await context.route("**/*", only_the_app)
            await page.goto("/login")
            await page.fill("input[name=username]", "wang")
            await page.fill("input[name=password]", "Correct-Horse-9")
            async with page.expect_navigation():
                await page.click("form[action='/login'] button[type=submit]")
            await page.goto(url)
            return page

        yield open_page
        for browser in browsers:
            await browser.close()


async def test_camera_reads_a_ticket_once_then_already_redeemed_when_it_comes_back(camera, tmp_path):
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    await make_staff(Role.GATE, "wang")
    video = tmp_path / "gate.y4m"
    write_y4m(video, [(None, 1), (ticket["code"], 3), (None, 3), (ticket["code"], 3), (None, 2)])
    page = await camera(video, f"/gate/scan/G-1?session={world['session']}&hold=1500")

    verdict = page.locator("#gate-verdict")
    await page.locator("#gate-verdict[data-status='ok']:not([hidden])").wait_for(timeout=30_000)
    assert await verdict.get_attribute("data-tone") == "green"
    assert "请入场" in await page.locator("#verdict-headline").inner_text()
    assert "站票" in await page.locator("#verdict-details").inner_text()
    await page.screenshot(path="/tmp/gate-tablet-ok.png")

    await page.locator("#gate-verdict[data-status='already_redeemed']:not([hidden])").wait_for(timeout=30_000)
    await page.screenshot(path="/tmp/gate-tablet-already.png")
    # three seconds in front of the camera counted once; the code coming back counted again
    assert await scans_of(ticket["id"]) == ["ok", "already_redeemed"]
    assert await page.locator("#gate-count").inner_text() == "2"
    details = await page.locator("#verdict-details").inner_text()
    assert "首次入场" in details and "G-1" in details
    assert "已经入场" in await page.locator("#verdict-headline").inner_text()
    assert await verdict.get_attribute("data-tone") == "red"
    # ready for the next ticket after the hold time
    await page.locator("#gate-verdict").wait_for(state="hidden", timeout=5_000)
    await page.screenshot(path="/tmp/gate-tablet-ready.png")
    assert page.foreign_requests == []  # decoder, wasm and styles all came from the app


async def test_keyboard_wedge_and_portrait_layout(camera, tmp_path):
    world = await open_venue(reentry_allowed=True)
    ticket = await issue_ticket(world["session"], concession="student")
    await make_staff(Role.GATE, "wang")
    video = tmp_path / "blank.y4m"
    write_y4m(video, [(None, 2)])
    page = await camera(video, f"/gate/scan/G-2?session={world['session']}&hold=800", viewport="tablet-portrait")
    await page.locator("#gate[data-camera='on']").wait_for()
    # a hand scanner types the code and Enter into the focused field
    assert await page.evaluate("document.activeElement.id") == "gate-code"
    await page.keyboard.type(ticket["code"])
    await page.keyboard.press("Enter")
    await page.locator("#gate-verdict[data-status='ok']:not([hidden])").wait_for()
    assert await page.locator("#gate-verdict").get_attribute("data-tone") == "amber"  # check the student ID
    assert await page.locator("#verdict-attention").inner_text() == "学生优惠票：请查验证件后放行。"  # the kind's name
    await page.screenshot(path="/tmp/gate-tablet-portrait-attention.png")
    await page.locator("#gate-verdict").wait_for(state="hidden")
    # exit, then the same ticket comes back in: re-entry is allowed here
    await page.click("[data-testid='direction-out']")
    await page.keyboard.type(ticket["code"] + "\n")
    await page.locator("#gate-verdict[data-status='ok']:not([hidden])").wait_for()
    assert "离场" in await page.locator("#verdict-headline").inner_text()
    await page.locator("#gate-verdict").click()  # tap: ready at once
    await page.click("[data-testid='direction-in']")
    await page.keyboard.type("NOT-A-TICKET\n")
    await page.locator("#gate-verdict[data-status='invalid']:not([hidden])").wait_for()
    assert await scans_of(ticket["id"]) == ["ok", "ok"]
    directions = [
        r["direction"] for r in await Scan.select(Scan.direction).where(Scan.ticket == ticket["id"]).order_by(Scan.id)
    ]
    assert directions == ["in", "out"]
    assert page.foreign_requests == []


async def test_a_typed_ticket_number_gets_the_verdict_then_the_duplicate_verdict(camera, tmp_path):
    """Issue 15: the QR does not read (a cracked screen); the attendant taps Type and enters the 11-digit number
    printed under it, with the spaces it is printed with."""
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    await make_staff(Role.GATE, "wang")
    video = tmp_path / "blank.y4m"
    write_y4m(video, [(None, 2)])
    page = await camera(video, f"/gate/scan/G-1?session={world['session']}&hold=8000")
    await page.locator("#gate[data-camera='on']").wait_for()
    await page.click("#gate-type")
    assert await page.locator("#gate-code").get_attribute("inputmode") == "numeric"  # the tablet's number pad
    number = ticket["short_code"]
    await page.keyboard.type(f"{number[:3]} {number[3:7]} {number[7:]}\n")
    await page.locator("#gate-verdict[data-status='ok']:not([hidden])").wait_for()
    assert "请入场" in await page.locator("#verdict-headline").inner_text()
    details = await page.locator("#verdict-details").inner_text()
    assert f"{number[:3]} {number[3:7]} {number[7:]}" in details and "站票" in details
    assert await page.locator("#gate-verdict code").count() == 0  # no raw verdict code under the verdict
    await page.locator("#gate-verdict").click()
    await page.locator("#gate-code").focus()
    await page.keyboard.type(number + "\n")
    await page.locator("#gate-verdict[data-status='already_redeemed']:not([hidden])").wait_for()
    assert "G-1" in await page.locator("#verdict-details").inner_text()
    await page.locator("#gate-verdict").click()
    # one digit wrong: the check digit catches it before anyone is looked up
    wrong = number[:4] + str((int(number[4]) + 1) % 10) + number[5:]
    await page.locator("#gate-code").focus()
    await page.keyboard.type(wrong + "\n")
    await page.locator("#gate-verdict[data-status='invalid']:not([hidden])").wait_for()
    assert "票号输入有误" in await page.locator("#verdict-reason").inner_text()
    assert await scans_of(ticket["id"]) == ["ok", "already_redeemed"]


async def test_offline_tablet_pulls_the_revocation_delta_refuses_the_refunded_ticket_and_shows_a_stale_list(
    browser, live_server
):
    """Issue 11 (R5.3, R9.2): the tablet reaches the app through a TCP forwarder (tests/gate/outage.py) that is
    stopped to cut it off for real. Offline it admits a valid ticket from its cached list and journals the scan;
    the other ticket is refunded meanwhile; reconnected, the page pulls the revocation delta (`since=N`) and
    uploads its journal; cut off again, it refuses the refunded ticket from its own list, and once that list is
    older than the page's stale age it says "revocation list stale". The ticket it let in offline stays known as
    inside after the upload, so it is not let in twice (the last full list predates it)."""
    world = await open_venue()
    kept = await issue_ticket(world["session"])
    refunded = await issue_ticket(world["session"])
    order_code = await paid_in_cash(refunded)
    await make_staff(Role.GATE, "wang")
    link = TcpForwarder("127.0.0.1", urlsplit(live_server).port)
    await link.start()
    context = await browser.new_context(
        base_url=f"http://127.0.0.1:{link.port}", viewport={"width": 1024, "height": 768}, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("input[name=username]", "wang")
        await page.fill("input[name=password]", "Correct-Horse-9")
        async with page.expect_navigation():
            await page.click("form[action='/login'] button[type=submit]")
        await page.goto(f"/gate/scan/G-1?session={world['session']}&sync=1&stale=3&hold=800")
        gate = page.locator("#gate")
        await page.locator("#gate[data-online='1']").wait_for()
        synced_seq = int(await gate.get_attribute("data-revocation-seq"))
        assert await page.locator("#gate-stale").is_hidden()

        await link.stop()  # the tablet's network is cut
        await page.locator("#gate[data-online='0']").wait_for()
        await page.locator("#gate-code").focus()
        await page.keyboard.type(kept["code"] + "\n")
        await page.locator("#gate-verdict[data-status='ok']:not([hidden])").wait_for()
        assert await page.locator("#verdict-offline").is_visible()  # judged from the cached list, journaled
        await page.locator("#gate-verdict").click()

        done = await request_refund(SELLER, order_code, channel="box_office", waived=True)
        assert done.status == "done"
        await link.start()  # back on the network: the next sync pulls the delta and uploads the journal
        await page.locator(f"#gate:not([data-revocation-seq='{synced_seq}'])").wait_for()  # the delta came
        offline_scans = await Scan.select(Scan.status, Scan.offline).where(Scan.ticket == kept["id"])
        assert offline_scans == [{"status": "ok", "offline": True}]

        await link.stop()  # offline again: only the tablet's own list can refuse the ticket now
        await page.locator("#gate[data-online='0']").wait_for()
        await page.locator("#gate-code").focus()
        await page.keyboard.type(refunded["code"] + "\n")
        await page.locator("#gate-verdict[data-status='revoked']:not([hidden])").wait_for()
        assert await page.locator("#verdict-offline").is_visible()
        assert "此票已退" in await page.locator("#verdict-reason").inner_text()
        await page.locator("#gate-verdict").click()
        # the ticket this tablet let in offline and has since uploaded is still known to be inside (the last full
        # list predates it): shown again, it is not welcomed a second time
        await page.locator("#gate-code").focus()
        await page.keyboard.type(kept["code"] + "\n")
        await page.locator("#gate-verdict[data-status='already_redeemed']:not([hidden])").wait_for()
        assert await page.locator("#verdict-offline").is_visible()
        await page.locator("#gate-verdict").click()
        await page.locator("#gate-stale:not([hidden])").wait_for(timeout=10_000)  # no fresh list for 3 s
        assert "作废名单已过期" in await page.locator("#gate-stale").inner_text()
        await page.screenshot(path="/tmp/gate-tablet-stale.png")
        assert await Scan.count().where(Scan.ticket == refunded["id"]) == 0  # nothing reached the server
        assert await page.locator("#gate-count").inner_text() == "3"  # every offline scan counted
    finally:
        await context.close()
        if link.server is not None and link.server.is_serving():
            await link.stop()
