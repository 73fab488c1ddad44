"""Shared test helpers: real staff accounts, a signed-in HTTP client, a small real catalog."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import socket

import httpx

from db.catalog import operations as catalog
from db.core.actor import Actor
from db.staff.accounts import create_staff
from db.staff.permissions import Role

PASSWORD = "Correct-Horse-9"
ADMIN_ACTOR = Actor.system("test")
BASE_URL = "https://testserver.local"


# scripts/test runs the SQLite and the PostgreSQL suites at the same time: each picks the ports of the servers it
# starts from its own range, below the kernel's ephemeral ports (32768 and up, where port 0 and outgoing
# connections land), so that neither suite can take the port the other has just found free.
_PORTS = {"sqlite": range(20000, 26000), "postgres": range(26000, 32000)}[os.environ.get("TEST_DATABASE", "sqlite")]


def free_port() -> int:
    """A port no one listens on now, for a server the test starts (from this suite's own range)."""
    for port in random.sample(_PORTS, 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS}")


def http_client(app=None) -> httpx.AsyncClient:
    """An HTTP client for the app in the test's own event loop (the app shares the test's connection pool).

    Litestar's httpx.AsyncClient would run the app on another loop, which a PostgreSQL pool cannot share."""
    if app is None:
        from web.app import create_app

        app = create_app()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def make_staff(role: Role | str, username: str | None = None) -> str:
    role = Role(role)
    username = username or f"{role.value}1"
    await create_staff(ADMIN_ACTOR, username, f"Test {role.value}", role.value, PASSWORD)
    return username


def csrf_token(client: httpx.AsyncClient) -> str:
    return client.cookies.get("csrftoken") or ""


async def fetch_csrf(client: httpx.AsyncClient) -> str:
    response = await client.get("/login")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
    assert match, "login page has no CSRF field"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD):
    token = await fetch_csrf(client)
    return await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


async def post_form(client: httpx.AsyncClient, url: str, data: dict | None = None, **kwargs):
    """POST a form the way the browser does: with the page's CSRF token."""
    token = await fetch_csrf(client)
    return await client.post(url, data={**(data or {}), "_csrf_token": token}, **kwargs)


def utc(days: float = 0, hours: float = 0) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days, hours=hours)


SMALL_THEATRE_CSV = (
    "section,row,number,seat_class,x,y\n"
    + "\n".join(f"池座,{r},{n},{'VIP' if r == 1 else 'A'},{n},{r}" for r in (1, 2) for n in range(1, 6))
    + "\n"
)


async def small_catalog() -> dict:
    """A theatre with 10 seats (5 VIP, 5 A) and two gates, a seated session, and a general-admission
    session of 50 tickets at a park. Returns the ids."""
    actor = ADMIN_ACTOR
    theatre = await catalog.create_venue(actor, "测试剧场", "上海", "", SMALL_THEATRE_CSV)
    gates = [
        await catalog.add_gate(actor, theatre, "T-N", "北门"),
        await catalog.add_gate(actor, theatre, "T-S", "南门"),
    ]
    park = await catalog.create_venue(actor, "测试公园", "南京")
    park_gate = await catalog.add_gate(actor, park, "P-1", "正门")
    show = await catalog.create_event(actor, "测试演出", "performance")
    walk = await catalog.create_event(actor, "测试景区", "attraction")
    seated = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            show,
            theatre,
            utc(days=3),
            utc(days=3, hours=2),
            [catalog.PriceClassSpec("VIP", 50000, "VIP"), catalog.PriceClassSpec("甲等", 20000, "A")],
            gates,
        ),
    )
    ga = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            walk, park, utc(days=1), utc(days=1, hours=8), [catalog.PriceClassSpec("成人票", 5000, "", 50)], [park_gate]
        ),
    )
    return {
        "theatre": theatre,
        "gates": gates,
        "park": park,
        "park_gate": park_gate,
        "show": show,
        "walk": walk,
        "seated_session": seated,
        "ga_session": ga,
    }
