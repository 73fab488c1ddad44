"""Browser-test infrastructure for every area: the real app in a subprocess, Debian's Chromium via
Playwright's *async* API (it shares the suite's asyncio session loop; the sync API refuses to run
inside a running loop, which async fixtures and tests have), and one fresh browser context per test.

Fixtures
- `live_server` (module scope): base URL "http://127.0.0.1:PORT" of `uvicorn web.app:create_app` run
  with this test run's environment (DATABASE_URL, TC_SECRET_KEY, TICKET_SIGNING_KEY are inherited), so
  the server sees exactly the rows a test writes with tests.helpers (tables are emptied before each test).
- `browser` (module scope): Chromium from /usr/bin/chromium, headless, with the flags this machine needs.
- `page`: a page in a fresh context (no cookies), base_url set to the live server, zh-CN, tablet viewport
  1024x768 by default. For a phone, parametrize the `viewport` fixture indirectly:
      @pytest.mark.parametrize("viewport", ["phone"], indirect=True)
  (names in VIEWPORTS; a (width, height) tuple works too).
- `sign_in_page`: `await sign_in_page(page, username, password=PASSWORD)` signs in through the real
  /login form and waits for the page it lands on.

Secure cookies: the session and CSRF cookies carry the Secure flag; Chromium accepts and sends them on
http://127.0.0.1 because loopback is a potentially trustworthy origin (tests/browser/test_roles.py proves
it by signing in over plain HTTP and checking the cookie's flag).

Screenshots for a look: `await page.screenshot(path="/tmp/x.png", full_page=True)`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.helpers import PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"tablet": (1024, 768), "tablet-portrait": (768, 1024), "phone": (390, 844), "desktop": (1440, 900)}
STARTUP_TIMEOUT = 60.0
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) or IN_CI:
        return  # in CI a missing browser must fail, not skip
    marker = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}; install Debian's chromium (scripts/setup does as root)"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(marker)


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"the app did not answer /healthz within {STARTUP_TIMEOUT:.0f}s:\n{log_path.read_text()[-4000:]}"
    )


@pytest.fixture(scope="module")
def live_server(migrated) -> str:
    """The real app served by uvicorn on a free loopback port, on this test run's database."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.mkstemp(prefix="tc-live-server-", suffix=".log")[1])
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
def viewport(request) -> dict[str, int]:
    """The page's size: 'tablet' (1024x768) unless parametrized indirectly with a VIEWPORTS name or (w, h)."""
    value = getattr(request, "param", "tablet")
    width, height = VIEWPORTS[value] if isinstance(value, str) else value
    return {"width": width, "height": height}


@pytest.fixture
async def page(browser, live_server, viewport):
    context = await browser.new_context(
        base_url=live_server,
        viewport=viewport,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        has_touch=viewport["width"] < 1200,
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
def sign_in_page() -> Callable[..., Awaitable[None]]:
    async def sign_in(page, username: str, password: str = PASSWORD) -> None:
        await page.goto("/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        async with page.expect_navigation():
            await page.click("form[action='/login'] button[type=submit]")

    return sign_in
