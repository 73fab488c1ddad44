"""Public shop load benchmark (R1.3): concurrent customers browsing (event list, session page with a
seat plan) and buying (session page, hold, pay on the sandbox checkout, order page with the e-tickets,
e-mail sent to a local SMTP sink) against a real server. Prints requests/s and p50/p95 per page type and
checks the database afterwards (tickets issued = tickets paid for, no seat sold twice).

It prepares the database it is given (migrations, demo sales policy, a new theatre with a 400-seat plan and
a seated session, and a general-admission session), starts `python -m web.serve` with --workers
workers (or targets a running server with --url: start that one with TC_COOKIE_SECURE=0 for plain HTTP and
SHOP_ORDERS_PER_CLIENT raised, since every simulated customer comes from 127.0.0.1).

    .venv/bin/python bench/shop_load.py --database-url sqlite:///var/bench-shop.sqlite3 --workers 1
    .venv/bin/python bench/shop_load.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_shop
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.server import free_port, percentile, start_server, wait_ready  # noqa: E402

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
ROWS, SEATS_PER_ROW = 16, 25


async def prepare(ga_tickets: int) -> dict:
    """A seated session (400 seats) and a general-admission session of `ga_tickets`, each at a venue of its own."""
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.migrate import migrate
    from db.sales import demo as sales_demo

    await migrate()
    actor = Actor.system("bench")
    await sales_demo.load(actor)
    tag = uuid.uuid4().hex[:8]
    csv = "section,row,number,seat_class,x,y\n" + "".join(
        f"池座,{r},{n},{'A' if r <= 6 else 'B'},{n},{r}\n"
        for r in range(1, ROWS + 1)
        for n in range(1, SEATS_PER_ROW + 1)
    )
    theatre = await catalog.create_venue(actor, f"压测剧场 {tag}", "上海", "", csv)
    park = await catalog.create_venue(actor, f"压测公园 {tag}", "南京")
    gates = [
        await catalog.add_gate(actor, theatre, f"BT-{tag}", "压测北门"),
        await catalog.add_gate(actor, park, f"BP-{tag}", "压测正门"),
    ]
    show = await catalog.create_event(actor, f"商城压测演出 {tag}", "performance")
    walk = await catalog.create_event(actor, f"商城压测景区 {tag}", "attraction")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    seated = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            show,
            theatre,
            start,
            start + dt.timedelta(hours=2),
            [catalog.PriceClassSpec("A区", 38000, "A"), catalog.PriceClassSpec("B区", 18000, "B")],
            [gates[0]],
        ),
    )
    ga = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            walk,
            park,
            start,
            start + dt.timedelta(hours=8),
            [catalog.PriceClassSpec("成人票", 6000, "", ga_tickets)],
            [gates[1]],
        ),
    )
    ga_class = (await PriceClass.select(PriceClass.id).where(PriceClass.session == ga).first())["id"]
    return {"seated": seated, "ga": ga, "ga_class": ga_class}


async def verify(ga_session: int) -> dict:
    from db.sales.tables import Order, OrderItem, Ticket

    paid = await Order.select(Order.id).where((Order.session == ga_session) & (Order.status == "paid"))
    ids = [o["id"] for o in paid] or [-1]
    bought = sum(i["quantity"] for i in await OrderItem.select(OrderItem.quantity).where(OrderItem.order.is_in(ids)))
    issued = await Ticket.count().where(Ticket.order.is_in(ids))
    return {"paid_orders": len(paid), "tickets_paid_for": bought, "tickets_issued": issued}


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.bad: dict[str, int] = defaultdict(int)

    async def request(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, expect: int, **kwargs
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await client.request(method, url, **kwargs)
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code != expect:
            self.bad[f"{kind} {response.status_code}"] += 1
        return response


async def browse(url: str, ids: dict, rec: Recorder, until: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while time.monotonic() < until:
            await rec.request(client, "event list", "GET", "/shop", 200)
            await rec.request(client, "session page (400-seat plan)", "GET", f"/shop/sessions/{ids['seated']}", 200)


async def buy(url: str, ids: dict, rec: Recorder, until: float, number: int) -> int:
    bought = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while time.monotonic() < until:
            page = await rec.request(client, "session page (GA)", "GET", f"/shop/sessions/{ids['ga']}", 200)
            token = CSRF_FIELD.search(page.text).group(1)
            form = {
                "_csrf_token": token,
                "name": "压测顾客",
                "phone": f"139{number:04d}{bought % 10000:04d}",
                "email": f"buyer{number}@example.cn",
                "accept_rules": "1",
                f"qty_{ids['ga_class']}": "2",
            }
            held = await rec.request(
                client, "hold (place order)", "POST", f"/shop/sessions/{ids['ga']}/order", 303, data=form
            )
            if held.status_code != 303:
                continue
            order_url = held.headers["location"]
            started = await rec.request(
                client, "pay: start", "POST", f"{order_url}/pay", 303, data={"_csrf_token": token}
            )
            if started.status_code != 303:
                continue
            paid = await rec.request(
                client, "pay: sandbox checkout", "POST", started.headers["location"], 303, data={"_csrf_token": token}
            )
            if paid.status_code == 303:
                await rec.request(client, "order page (QR e-tickets)", "GET", order_url, 200)
                bought += 1
    return bought


class SmtpSink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", required=True, help="postgresql://... or sqlite:///PATH (prepared and verified here)"
    )
    parser.add_argument("--url", help="target a running server on the same database instead of starting one")
    parser.add_argument("--browsers", type=int, default=16, help="customers only browsing")
    parser.add_argument(
        "--buyers", type=int, default=8, help="customers buying 2 GA tickets per order, again and again"
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ga-tickets", type=int, default=100_000)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    from aiosmtpd.controller import Controller
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    ids = await prepare(args.ga_tickets)
    smtp = Controller(SmtpSink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    server = (
        None
        if args.url
        else start_server(
            args.database_url,
            args.workers,
            port,
            TC_COOKIE_SECURE="0",
            SHOP_ORDERS_PER_CLIENT="1000000",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
        )
    )
    url = args.url or f"http://127.0.0.1:{port}"
    rec = Recorder()
    try:
        await wait_ready(url)
        started = time.monotonic()
        until = started + args.seconds
        results = await asyncio.gather(
            *(browse(url, ids, rec, until) for _ in range(args.browsers)),
            *(buy(url, ids, rec, until, n) for n in range(args.buyers)),
        )
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        smtp.stop()
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    checks = await verify(ids["ga"])
    engine_label = "postgresql" if isinstance(engine, PostgresEngine) else "sqlite"
    print(
        f"shop load: {engine_label}, {args.workers if not args.url else '?'} worker(s), {args.browsers} browsing + "
        f"{args.buyers} buying customers, {elapsed:.1f} s"
    )
    print(f"{'page':36} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    total = 0
    for kind, values in rec.latencies.items():
        total += len(values)
        print(
            f"{kind:36} {len(values):9d} {len(values) / elapsed:8.1f} "
            f"{percentile(values, 50) * 1000:8.1f} {percentile(values, 95) * 1000:8.1f}"
        )
    print(f"{'all':36} {total:9d} {total / elapsed:8.1f}")
    print(f"orders bought by the clients: {sum(r for r in results if isinstance(r, int))}; database: {checks}")
    print(f"unexpected answers: {dict(rec.bad) or 'none'}")
    if checks["tickets_issued"] != checks["tickets_paid_for"]:
        raise SystemExit("tickets issued differ from tickets paid for")


if __name__ == "__main__":
    asyncio.run(main())
