"""Gate redeem latency while staff sign in (issue 9, defect 3): a burst of --logins sign-ins at once on the
SAME worker that serves --gates turnstiles, each scanning --rate tickets a second. argon2 runs in a thread pool, so the
event loop keeps answering the gates; the target is redeem p99 < 50 ms on PostgreSQL during the burst.

It prepares the database it is given (migrations, a venue with gates and device tokens, a session open for
admission with --tickets paid tickets, --logins staff accounts), starts `python -m web.serve --workers 1`,
warms up, measures redeem latency for --baseline seconds without sign-ins, then again from the moment the
burst starts until the last sign-in has answered (plus half a second), and prints both.

    .venv/bin/python bench/login_burst.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_harden
    .venv/bin/python bench/login_burst.py --database-url sqlite:///var/bench_harden.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
import uuid
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.redeem import issue_tickets, prepare_gates  # noqa: E402
from bench.server import free_port, percentile, start_server, wait_ready  # noqa: E402

PASSWORD = "Burst-Test-2026!"


async def prepare(tag: str, tickets: int, logins: int) -> tuple[list[str], list[str], list[str]]:
    """(device tokens, ticket codes, staff usernames)."""
    from db.core.actor import Actor
    from db.staff.accounts import create_staff

    venue, gate_ids, tokens = await prepare_gates(tag)
    _, codes = await issue_tickets(venue, gate_ids, tickets, tag, days=1)
    actor = Actor.system("bench")
    users = [f"burst_{tag}_{i}" for i in range(logins)]
    for username in users:
        await create_staff(actor, username, f"压测检票员 {username}", "gate", PASSWORD)
    return tokens, codes, users


async def sign_in(url: str, username: str) -> float:
    """One browser signing in (GET the form for its CSRF token, POST it): seconds until the answer."""
    async with aiohttp.ClientSession(base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        page = await (await browser.get("/login")).text()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        started = time.perf_counter()
        async with browser.post(
            "/login",
            data={"username": username, "password": PASSWORD, "_csrf_token": token, "next": "/"},
            allow_redirects=False,
        ) as answer:
            await answer.read()
            if answer.status != 303:
                raise SystemExit(f"sign-in of {username} answered {answer.status}")
        return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--gates", type=int, default=16, help="turnstiles scanning at once")
    parser.add_argument("--rate", type=float, default=5.0, help="scans per second per gate (a paced turnstile)")
    parser.add_argument("--logins", type=int, default=30, help="sign-ins in the burst")
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds measured without sign-ins")
    args = parser.parse_args()

    import os

    os.environ["DATABASE_URL"] = args.database_url
    tag = uuid.uuid4().hex[:6].upper()
    tokens, codes, users = await prepare(tag, args.tickets, args.logins)
    from piccolo.engine.finder import engine_finder

    from db.core.engine import close_engine

    await close_engine(engine_finder())

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(args.database_url, 1, port, TC_COOKIE_SECURE="0")
    try:
        await wait_ready(url)
        samples: list[tuple[float, float]] = []  # (when it started, seconds)
        stop = asyncio.Event()
        next_code = iter(range(10**9))

        async def gate(client: aiohttp.ClientSession, token: str, offset: float) -> None:
            """A turnstile scanning every 1/rate seconds (open loop: a slow answer does not slow the visitors)."""
            headers = {"Authorization": f"Bearer {token}"}
            await asyncio.sleep(offset)
            beat = time.perf_counter()
            while not stop.is_set():
                beat += 1 / args.rate
                await asyncio.sleep(max(0.0, beat - time.perf_counter()))
                code = codes[next(next_code) % len(codes)]
                started = time.perf_counter()
                async with client.post("/api/v1/checkin/redeem", json={"code": code}, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise SystemExit(f"redeem answered {answer.status}")
                samples.append((started, time.perf_counter() - started))

        connector = aiohttp.TCPConnector(limit=args.gates * 2)
        async with aiohttp.ClientSession(base_url=url, connector=connector) as client:
            gates = [
                asyncio.create_task(gate(client, tokens[i % len(tokens)], i / args.gates / args.rate))
                for i in range(args.gates)
            ]
            await asyncio.sleep(1.5)  # warm-up: connections open, statements prepared (not measured)
            baseline_from = time.perf_counter()
            await asyncio.sleep(args.baseline)
            burst_from = time.perf_counter()
            login_seconds = await asyncio.gather(*(sign_in(url, u) for u in users))
            await asyncio.sleep(0.5)
            burst_until = time.perf_counter()
            stop.set()
            await asyncio.gather(*gates)

        def figures(since: float, until: float) -> str:
            values = [s * 1000 for at, s in samples if since <= at < until]
            return (
                f"{len(values)} scans, p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
                f"max {max(values):.1f} ms"
            )

        print(
            f"database: {args.database_url.split('@')[-1]}, 1 worker, {args.gates} gates, "
            f"each scanning {args.rate:g} tickets a second"
        )
        print(f"redeem without sign-ins ({args.baseline:.0f} s): {figures(baseline_from, burst_from)}")
        print(
            f"redeem during {args.logins} sign-ins at once ({burst_until - burst_from:.1f} s): "
            f"{figures(burst_from, burst_until)}"
        )
        login_ms = [s * 1000 for s in login_seconds]
        print(f"sign-ins: p50 {percentile(login_ms, 50):.0f} ms, max {max(login_ms):.0f} ms (all 303)")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
