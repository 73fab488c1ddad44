"""After-sale benchmark (issue 11): the partner refund API under load. N partner orders of one ticket each
are placed and paid beforehand; then N concurrent POST /api/v1/orders/{code}/refunds (each with its own
Idempotency-Key, distinct tickets) hit a real server (`python -m web.serve`), and the database is checked:
every ticket revoked once, one refund and one ledger refund entry per order, nothing refunded twice.

    .venv/bin/python bench/aftersale.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_aftersale
    .venv/bin/python bench/aftersale.py --database-url sqlite:///var/bench_aftersale.sqlite3 --workers 1

The bulk cancellation of a session is measured by bench/bulk_cancel.py."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
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


async def prepare(orders: int) -> list[str]:
    """A fresh session 30 days ahead with `orders` paid partner orders of one ticket: their codes."""
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.migrate import migrate
    from db.sales import demo as sales_demo
    from db.sales.channels.partners import partner_for_key
    from db.sales.ordering.buyer import Buyer
    from db.sales.ordering.orders import ItemRequest, create_order
    from db.sales.payments.operations import pay_prepaid
    from db.staff import demo as staff_demo

    await migrate()
    actor = Actor.system("bench")
    await staff_demo.load(actor)
    await sales_demo.load(actor)
    partner = await partner_for_key(PARTNER_KEY)
    tag = uuid.uuid4().hex[:8]
    venue = await catalog.create_venue(actor, f"退票压测场馆 {tag}", "南京")
    gate = await catalog.add_gate(actor, venue, f"AS-{tag}", "压测入口")
    event = await catalog.create_event(actor, f"退票压测 {tag}", "performance")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event,
            venue,
            start,
            start + dt.timedelta(hours=3),
            [catalog.PriceClassSpec("草坪票", 39900, "", orders)],
            [gate],
        ),
    )
    price_class = (await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first())["id"]
    codes = []
    for i in range(orders):
        order = await create_order(
            partner.actor,
            session_id=session,
            channel="partner",
            buyer=Buyer("压测买家", f"1380000{i:04d}", ""),
            items=[ItemRequest(price_class_id=price_class, quantity=1)],
            partner_id=partner.id,
        )
        await pay_prepaid(partner.actor, order.code, partner.id)
        codes.append(order.code)
    return codes


async def verify(codes: list[str]) -> dict:
    from db.finance.tables import LedgerEntry
    from db.sales.aftersale.tables import Refund, RefundTicket
    from db.sales.tables import Order, Ticket

    orders = await Order.select(Order.id, Order.status).where(Order.code.is_in(codes))
    ids = [o["id"] for o in orders]
    refunds = await Refund.select(Refund.order).where(Refund.order.is_in(ids))
    per_order: dict[int, int] = {}
    for r in refunds:
        per_order[r["order"]] = per_order.get(r["order"], 0) + 1
    entries = await LedgerEntry.count().where(LedgerEntry.order.is_in(ids) & (LedgerEntry.kind == "refund"))
    revoked = await Ticket.count().where(Ticket.order.is_in(ids) & (Ticket.status == "revoked"))
    lines = await RefundTicket.count().where(
        RefundTicket.ticket.is_in(Ticket.select(Ticket.id).where(Ticket.order.is_in(ids)))
    )
    return {
        "refunded_orders": sum(1 for o in orders if o["status"] == "refunded"),
        "refunds": len(refunds),
        "refunded_twice": sum(1 for n in per_order.values() if n > 1),
        "ledger_refund_entries": entries,
        "revoked_tickets": revoked,
        "refund_lines": lines,
    }


async def load(url: str, codes: list[str], warm: list[str]) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=len(codes))
    async with aiohttp.ClientSession(
        base_url=url, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as client:

        async def refund(code: str, record: bool) -> None:
            headers = {"Authorization": f"Bearer {PARTNER_KEY}", "Idempotency-Key": uuid.uuid4().hex}
            t0 = time.perf_counter()
            async with client.post(f"/api/v1/orders/{code}/refunds", headers=headers) as response:
                await response.read()
            if record:
                latencies.append(time.perf_counter() - t0)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        # Warm-up, not measured: connections open and the workers' pooled connections prepare their statements.
        await asyncio.gather(*(refund(c, False) for c in warm))
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        await asyncio.gather(*(refund(c, True) for c in codes))
        elapsed = time.perf_counter() - started
        gc.enable()
    return latencies, statuses, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--refunds", type=int, default=200, help="concurrent refunds of distinct tickets")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=16, help="PostgreSQL connections per worker")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    codes = await prepare(args.refunds)
    warm = await prepare(40)
    port = free_port()
    server = start_server(args.database_url, args.workers, port, DB_POOL_SIZE=str(args.pool))
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url)
        latencies, statuses, elapsed = await load(url, codes, warm)
    finally:
        server.terminate()
        server.wait(timeout=20)
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    checked = await verify(codes)
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    errors = sum(n for status, n in statuses.items() if status != 201)
    print(
        f"partner refund bench: {args.database_url.split('://')[0]}, {args.workers} workers, "
        f"{args.refunds} concurrent refunds"
    )
    print(f"  elapsed            {elapsed:.2f} s ({len(latencies) / elapsed:.1f} refunds/s)")
    print(
        f"  latency            p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    print(f"  status codes       {dict(sorted(statuses.items()))}   errors {errors}")
    print(f"  database check     {checked}")


if __name__ == "__main__":
    asyncio.run(main())
