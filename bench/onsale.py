"""On-sale rush benchmark (R1.2, R1.3): N buyers, C at a time, race for a fresh 1,000-ticket
general-admission session through the partner API (create order + pay), against a real server.

It prepares the database it is given (migrations, demo policy and partner key, a new venue, event and
session with exactly --tickets tickets), starts `python -m web.serve` with --workers workers
(or targets a running server with --url), warms up (4 rounds of buyers for another session, unmeasured),
runs the buyers with aiohttp, then checks the database:
tickets issued vs. capacity (oversold), seats or orders sold twice, orders paid twice.

With --channels N (issue 13, R4.3) the session's stock is shared out first: the buying partner's allocation
(half the tickets, drawing on the pool when spent) and N-1 other channels and outlets with 5% each, the rest
in the open pool, so that every sale takes its allocation row and the class row. With --monitor a supervisor
watches the session's live stock monitor (/inventory/monitor/ID/stream) during the rush, and the bench prints
how long after each paid order the monitor's SSE update that counts it arrived.

    .venv/bin/python bench/onsale.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench
    .venv/bin/python bench/onsale.py --database-url sqlite:///var/bench.sqlite3 --workers 1
    .venv/bin/python bench/onsale.py --database-url postgresql://... --tickets 50000 --channels 6 --monitor
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.server import free_port, percentile, start_server, wait_ready  # noqa: E402

PARTNER_KEY = "demo-partner-key"


async def prepare(tickets: int) -> tuple[int, int]:
    """A fresh general-admission session with `tickets` tickets at a venue of its own: (session, class)."""
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.migrate import migrate
    from db.sales import demo as sales_demo
    from db.staff import demo as staff_demo

    await migrate()
    actor = Actor.system("bench")
    await staff_demo.load(actor)
    await sales_demo.load(actor)
    tag = uuid.uuid4().hex[:8]
    venue = await catalog.create_venue(actor, f"压测草坪 {tag}", "南京")
    gate = await catalog.add_gate(actor, venue, f"BENCH-{tag}", "压测入口")
    event = await catalog.create_event(actor, f"开票压测 {tag}", "performance")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event,
            venue,
            start,
            start + dt.timedelta(hours=4),
            [catalog.PriceClassSpec("草坪票", 39900, "", tickets)],
            [gate],
        ),
    )
    price_class = await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first()
    return session, price_class["id"]


OTHER_CHANNELS = [
    ("box_office", ""),
    ("web_shop", ""),
    ("outlet", "王府井售票点"),
    ("outlet", "西单售票点"),
    ("box_office", "二号窗口"),
    ("outlet", "三里屯售票点"),
    ("web_shop", "小程序"),
]


async def allocate(price_class: int, tickets: int, channels: int) -> None:
    """Share the class out: the bench partner half (then the pool), N-1 other channels 5% each, the rest the pool."""
    from db.core.actor import Actor
    from db.inventory.allocations import create_allocation
    from db.sales.demo import DEMO_PARTNER
    from db.sales.tables import Partner

    actor = Actor.system("bench")
    partner = (await Partner.select(Partner.id).where(Partner.name == DEMO_PARTNER).first())["id"]
    await create_allocation(actor, price_class, "partner", tickets // 2, partner_id=partner, may_use_pool=True)
    for channel, outlet in OTHER_CHANNELS[: channels - 1]:
        await create_allocation(actor, price_class, channel, max(1, tickets // 20), outlet=outlet)


class MonitorWatch:
    """A supervisor's live monitor stream during the rush: (arrival time, sold count) of each update."""

    def __init__(self) -> None:
        self.updates: list[tuple[float, int]] = []
        self.render_lags: list[float] = []

    async def run(self, url: str, session_id: int, stop: asyncio.Event) -> None:
        import re

        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            login = await client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)
            await client.post(
                "/login", data={"username": "zhangwei", "password": "Demo-2026!", "_csrf_token": token, "next": "/"}
            )
            while not stop.is_set():
                async with client.stream("GET", f"/inventory/monitor/{session_id}/stream?seconds=30") as response:
                    if response.status_code != 200:
                        raise SystemExit(f"monitor stream answered {response.status_code}")
                    data = []
                    async for line in response.aiter_lines():
                        if line.startswith("data: "):
                            data.append(line[6:])
                        elif not line and data:
                            text = "\n".join(data)
                            data = []
                            sold = re.search(r'data-testid="sold">(\d+)<', text)
                            as_of = re.search(r'data-as-of="([^"]+)"', text)
                            if sold:
                                self.updates.append((time.perf_counter(), int(sold.group(1))))
                            if as_of:
                                sent = dt.datetime.fromisoformat(as_of.group(1))
                                self.render_lags.append((dt.datetime.now(dt.UTC) - sent).total_seconds())
                        if stop.is_set():
                            break

    def lags(self, sales: list[float], already: int) -> list[float]:
        """Per paid order (its answer's arrival time, in order), the wait for the first update counting it."""
        out = []
        for k, paid_at in enumerate(sales, start=already + 1):
            shown = next((t for t, sold in self.updates if sold >= k and t >= paid_at), None)
            earlier = next((t for t, sold in self.updates if sold >= k), None)
            if shown is None and earlier is None:
                continue
            out.append(0.0 if earlier is not None and earlier < paid_at else shown - paid_at)
        return out


async def verify(session_id: int, tickets: int) -> dict:
    """What the database says after the rush."""
    from db.catalog.tables import PriceClass
    from db.sales.tables import Order, Payment, Ticket

    issued = await Ticket.count().where(Ticket.session == session_id)
    available = (await PriceClass.select(PriceClass.available).where(PriceClass.session == session_id).first())[
        "available"
    ]
    paid_orders = await Order.select(Order.id).where((Order.session == session_id) & (Order.status == "paid"))
    paid_ids = [o["id"] for o in paid_orders]
    payments = await Payment.select(Payment.order).where(
        Payment.order.is_in(paid_ids or [-1]) & (Payment.status == "succeeded")
    )
    per_order: dict[int, int] = {}
    for p in payments:
        per_order[p["order"]] = per_order.get(p["order"], 0) + 1
    seat_rows = await Ticket.select(Ticket.seat).where((Ticket.session == session_id) & Ticket.seat.is_not_null())
    seats = [r["seat"] for r in seat_rows]
    held = await Order.count().where(
        (Order.session == session_id) & Order.status.is_in(["held", "awaiting_payment", "awaiting_audit"])
    )
    from db.inventory.tables import Allocation

    shares = await Allocation.select(Allocation.channel, Allocation.outlet, Allocation.available).where(
        Allocation.session == session_id
    )
    return {
        "allocations": ", ".join(
            f"{a['channel']}{' ' + a['outlet'] if a['outlet'] else ''} {a['available']} left" for a in shares
        ),
        "issued": issued,
        "available": available,
        "paid_orders": len(paid_ids),
        "unpaid_holding_orders": held,
        "oversold": max(0, issued - tickets) + (1 if available < 0 else 0),
        "double_sold_seats": len(seats) - len(set(seats)),
        "orders_paid_twice": sum(1 for n in per_order.values() if n > 1),
        "paid_without_payment": len(paid_ids) - len(per_order),
    }


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.request_latencies: list[float] = []
        self.codes: dict[int, int] = {}
        self.sold = self.sold_out = self.errors_5xx = self.failures = 0
        self.started = self.last_sale = 0.0  # perf_counter at the start and at the last paid order
        self.buyer_latencies: list[float] = []  # create + pay of the buyers who got a ticket
        self.failure_kinds: dict[str, int] = {}
        self.paid_at: list[float] = []  # perf_counter when each paid order's answer arrived


async def post(client: aiohttp.ClientSession, path: str, stats: Stats, **kwargs) -> tuple[int, dict]:
    t0 = time.perf_counter()
    async with client.post(path, **kwargs) as response:
        body = await response.read()
    stats.request_latencies.append(time.perf_counter() - t0)
    stats.codes[response.status] = stats.codes.get(response.status, 0) + 1
    return response.status, (json.loads(body) if body else {})


async def buyer(client: aiohttp.ClientSession, session_id: int, price_class: int, stats: Stats) -> None:
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {PARTNER_KEY}", "Idempotency-Key": uuid.uuid4().hex}
    body = {
        "session_id": session_id,
        "items": [{"price_class_id": price_class, "quantity": 1}],
        "buyer": {"name": "压测买家", "phone": "13800000000", "email": ""},
    }
    try:
        status, created = await post(client, "/api/v1/orders", stats, json=body, headers=headers)
        if status == 201:
            status, paid = await post(client, f"/api/v1/orders/{created['code']}/pay", stats, headers=headers)
            if status == 200 and paid["status"] == "paid":
                stats.sold += 1
                stats.last_sale = time.perf_counter()
                stats.paid_at.append(stats.last_sale)
                stats.buyer_latencies.append(stats.last_sale - started)
            elif status >= 500:
                stats.errors_5xx += 1
        elif status == 409:
            stats.sold_out += 1
        elif status >= 500:
            stats.errors_5xx += 1
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.failures += 1
        stats.failure_kinds[type(exc).__name__] = stats.failure_kinds.get(type(exc).__name__, 0) + 1
    stats.latencies.append(time.perf_counter() - started)


async def rush(
    url: str, session_id: int, price_class: int, buyers: int, concurrency: int, warm_up: tuple[int, int]
) -> tuple[Stats, float]:
    stats = Stats()
    # aiohttp: a load generator that costs a fraction of httpx's CPU, which shares these 2 cores with the server.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base_url=url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as client:
        # Warm-up, not measured: every connection opens and the server's pooled database connections prepare
        # their statements, as they would have before the sale opens (4 rounds of buyers of another session).
        for _ in range(4):
            await asyncio.gather(*(buyer(client, *warm_up, Stats()) for _ in range(concurrency)))
        gc.collect()
        gc.disable()  # the load generator's own collections would show up as server latency
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(buyers):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await buyer(client, session_id, price_class, stats)

        stats.started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - stats.started
        gc.enable()
        return stats, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", required=True, help="postgresql://... or sqlite:///PATH (prepared and verified here)"
    )
    parser.add_argument("--url", help="target a running server instead of starting one (it must use the same database)")
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=16, help="PostgreSQL connections per worker")
    parser.add_argument("--port", type=int, default=0, help="port for the server it starts (default: a free one)")
    parser.add_argument("--channels", type=int, default=0, help="share the stock out to N channels (issue 13)")
    parser.add_argument("--monitor", action="store_true", help="watch the live stock monitor during the rush")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    session_id, price_class = await prepare(args.tickets)
    warm_up = await prepare(args.concurrency * 4)
    if args.channels > 1:
        await allocate(price_class, args.tickets, args.channels)
        await allocate(warm_up[1], args.concurrency * 4, args.channels)
    port = args.port or free_port()
    env = {"DB_POOL_SIZE": str(args.pool), "TC_COOKIE_SECURE": "0"}  # the monitor signs in over plain HTTP
    server = None if args.url else start_server(args.database_url, args.workers, port, **env)
    url = args.url or f"http://127.0.0.1:{port}"
    watch, stop = MonitorWatch(), asyncio.Event()
    watching = None
    try:
        await wait_ready(url)
        if args.monitor:
            watching = asyncio.create_task(watch.run(url, session_id, stop))
            for _ in range(100):
                if watch.updates:
                    break
                await asyncio.sleep(0.1)
        stats, elapsed = await rush(url, session_id, price_class, args.buyers, args.concurrency, warm_up)
        if watching is not None:
            await asyncio.sleep(1.5)  # the last updates
            stop.set()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching  # its connection closes: the server can stop gracefully
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    checked = await verify(session_id, args.tickets)
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    database = args.database_url.split("://")[0]
    print(
        f"on-sale bench: {database}, {args.workers if not args.url else '?'} server workers, {args.buyers} buyers, "
        f"{args.concurrency} concurrent, {args.tickets} tickets (session {session_id}), "
        + (f"{args.channels} channels" if args.channels > 1 else "one pool")
    )
    print(f"  elapsed            {elapsed:.2f} s")
    sell_out = stats.last_sale - stats.started
    print(f"  sold out after     {sell_out:.2f} s")
    print(
        f"  orders/second      {stats.sold / sell_out if sell_out > 0 else 0:.1f} paid orders/s until sold out "
        f"({stats.sold / elapsed:.1f} over the whole run; {args.buyers / elapsed:.1f} buyers answered/s)"
    )
    print(
        f"  buyer latency      p50 {percentile(stats.latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(stats.latencies, 99) * 1000:.1f} ms "
        f"(every buyer: create + pay, or the sold-out answer)"
    )
    print(
        f"  paying buyers      p50 {percentile(stats.buyer_latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(stats.buyer_latencies, 99) * 1000:.1f} ms "
        f"(create + pay of the {stats.sold} who got a ticket)"
    )
    print(
        f"  request latency    p50 {percentile(stats.request_latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(stats.request_latencies, 99) * 1000:.1f} ms"
    )
    print(f"  sold (paid)        {stats.sold}")
    print(f"  sold out (409)     {stats.sold_out}")
    print(f"  5xx                {stats.errors_5xx}   connection failures {stats.failures} {stats.failure_kinds or ''}")
    print(f"  status codes       {dict(sorted(stats.codes.items()))}")
    print(
        f"  database check     tickets issued {checked['issued']}, available left {checked['available']}, "
        f"paid orders {checked['paid_orders']}, unpaid holds {checked['unpaid_holding_orders']}"
    )
    print(f"  oversold           {checked['oversold']}")
    print(
        f"  double-sold        {checked['double_sold_seats']} seats, {checked['orders_paid_twice']} orders paid twice, "
        f"{checked['paid_without_payment']} paid without a payment"
    )
    if args.channels > 1:
        print(f"  allocations        {checked['allocations']}")
    if args.monitor:
        first = watch.updates[0][1] if watch.updates else 0
        lags = watch.lags(stats.paid_at, first)
        print(
            f"  monitor (SSE)      {len(watch.updates)} updates; paid order -> update counting it: "
            f"p50 {percentile(lags, 50) * 1000:.0f} ms, p99 {percentile(lags, 99) * 1000:.0f} ms, "
            f"max {max(lags or [0]) * 1000:.0f} ms over {len(lags)} orders; "
            f"render -> arrival p99 {percentile(watch.render_lags, 99) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
