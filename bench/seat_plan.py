"""Seat-plan benchmark (issue 15, R1.3): the plan page and one pick for a 50,000-seat stadium session.

It empties the database it is given, migrates it, adds the demo sales policy, a seller and a stadium made by
db.catalog.demo.arena_seats (40 sections of 1,250 seats) with a session on sale, then starts `python -m
web.serve` and times, one request after another (latency, not throughput), each of:
- box office plan page: GET /sales/sessions/ID as a seller (the section overview and the availability);
- box office section: GET /sales/sessions/ID/plan?section=S (one section's 1,250 seats, as tapping it does);
- box office best pick: GET /sales/sessions/ID/plan?best_class=C&best_n=2 (the best 2 together, drawn);
- shop plan page: GET /shop/sessions/ID; shop section: GET /shop/sessions/ID/plan?section=S.
Sections go round all 40, so each is drawn once before the rendered markup can be remembered
(web/remembered.py). Prints p50/p95 in ms per kind as JSON.

    .venv/bin/python bench/seat_plan.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_seatplan
    .venv/bin/python bench/seat_plan.py --database-url sqlite:///var/bench-seatplan.sqlite3 --requests 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.backup import _fresh  # noqa: E402
from bench.server import free_port, percentile, start_server, wait_ready  # noqa: E402

PASSWORD = "Bench-Seatplan-2026!"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def prepare() -> dict:
    """The stadium, its session on sale and a seller; returns the ids the requests need."""
    from db.catalog import operations as catalog
    from db.catalog.demo import ARENA_PRICES, arena_seats, at
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.migrate import migrate
    from db.sales import demo as sales_demo
    from db.sales.queries import plan_sections
    from db.staff.accounts import create_staff

    await migrate()
    actor = Actor.system("bench")
    await sales_demo.load(actor)
    await create_staff(actor, "seller", "售票员", "seller", PASSWORD)
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    venue = await catalog.create_venue(actor, f"压测体育场 {tag}", "武汉", "", arena_seats())
    gate = await catalog.add_gate(actor, venue, f"BS-{tag}", "压测北门")
    event = await catalog.create_event(actor, f"压测足球赛 {tag}", "sport", "", 120)
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event,
            venue,
            at(5, 19, 35),
            at(5, 21, 35),
            ARENA_PRICES,
            [gate],
        ),
    )
    made = time.perf_counter() - started
    best = await PriceClass.select(PriceClass.id).where(
        (PriceClass.session == session) & (PriceClass.seat_class == "A")
    )
    sections = await plan_sections(session)
    return {
        "session": session,
        "best_class": best[0]["id"],
        "sections": [s.name for s in sections],
        "seats": sum(s.seats for s in sections),
        "setup_seconds": round(made, 1),
    }


async def measure(base: str, ids: dict, requests: int) -> dict:
    session, sections = ids["session"], ids["sections"]
    kinds = {
        "box_office_plan_page": lambda i: f"/sales/sessions/{session}",
        "box_office_section": lambda i: f"/sales/sessions/{session}/plan?section={sections[i % len(sections)]}",
        "box_office_best_pick": lambda i: f"/sales/sessions/{session}/plan?best_class={ids['best_class']}&best_n=2",
        "shop_plan_page": lambda i: f"/shop/sessions/{session}",
        "shop_section": lambda i: f"/shop/sessions/{session}/plan?section={sections[i % len(sections)]}",
    }
    figures: dict = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = CSRF_FIELD.search((await client.get("/login")).text).group(1)
        await client.post("/login", data={"username": "seller", "password": PASSWORD, "_csrf_token": token})
        for kind, url in kinds.items():
            headers = {"hx-request": "true"} if "/plan" in url(0) else {}
            times, size = [], 0
            for i in range(requests):
                started = time.perf_counter()
                answer = await client.get(url(i), headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (kind, answer.status_code, answer.text[:300])
                size = len(answer.content)
            figures[kind] = {
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "kb": round(size / 1024),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=80, help="requests per kind (default 80: each section twice)")
    args = parser.parse_args()
    _fresh(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    from db.core.engine import run_tool

    ids: dict = {}

    async def fill() -> None:
        ids.update(await prepare())

    run_tool(fill())
    port = free_port()
    server = start_server(args.database_url, 1, port, TC_COOKIE_SECURE="0", BACKUP_INTERVAL_HOURS="0")
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_ready(base, 90))
        figures = asyncio.run(measure(base, ids, args.requests))
    finally:
        server.terminate()
        server.wait(30)
    engine = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    seats = {"seats": ids["seats"], "sections": len(ids["sections"]), "setup_seconds": ids["setup_seconds"]}
    print(json.dumps({"engine": engine, **seats, **figures}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
