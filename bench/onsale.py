"""On-sale rush benchmark (R1.2, R1.3): N buyers, C at a time, race for a fresh 1,000-ticket
general-admission session through the partner API (create order + pay), against a real server.

It prepares the database it is given (migrations, demo policy and partner key, a new venue, event and
session with exactly --tickets tickets), starts `python -m web.serve` with --workers workers
(or targets a running server with --url), warms up (4 rounds of buyers for another session, unmeasured),
runs the buyers with aiohttp, then checks the database:
tickets issued vs. capacity (oversold), seats or orders sold twice, orders paid twice.

    .venv/bin/python bench/onsale.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench
    .venv/bin/python bench/onsale.py --database-url sqlite:///var/bench.sqlite3 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import sys
import time
import uuid
from pathlib import Path

import aiohttp

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
    return {
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
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    session_id, price_class = await prepare(args.tickets)
    warm_up = await prepare(args.concurrency * 4)
    port = args.port or free_port()
    server = None if args.url else start_server(args.database_url, args.workers, port, DB_POOL_SIZE=str(args.pool))
    url = args.url or f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url)
        stats, elapsed = await rush(url, session_id, price_class, args.buyers, args.concurrency, warm_up)
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
        f"{args.concurrency} concurrent, {args.tickets} tickets (session {session_id})"
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


if __name__ == "__main__":
    asyncio.run(main())
