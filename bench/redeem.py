"""Gate redeem throughput (issue 4, R1.2, R1.3): G gates at once scan N freshly issued tickets (each once,
plus --duplicates of them again) through POST /api/v1/checkin/redeem against a real server.

It prepares the database it is given (migrations, a venue with 32 gates and a device token each, and per
concurrency level a new general-admission session whose admission is open, with N paid tickets), starts
`python -m web.serve` with --workers workers (or targets --url), warms up (each gate scans 4 tickets
of another session, unmeasured: connections open, statements prepared), runs the gates with aiohttp, and
checks that every ticket got exactly one `ok` (in the answers and in the database) and no 5xx.

    .venv/bin/python bench/redeem.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench
    .venv/bin/python bench/redeem.py --database-url sqlite:///var/bench.sqlite3 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.server import percentile, start_server, wait_ready  # noqa: E402

GATES = 32


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (the uvicorn workers), from /proc."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def prepare_gates(tag: str) -> tuple[int, list[int], list[str]]:
    """A venue with GATES gates and a device token per gate: (venue, gate ids, tokens)."""
    from db.catalog import operations as catalog
    from db.core.actor import Actor
    from db.gate.devices import register_device
    from db.migrate import migrate

    await migrate()
    actor = Actor.system("bench")
    venue = await catalog.create_venue(actor, f"检票压测场 {tag}", "南京")
    gate_ids, tokens = [], []
    for i in range(1, GATES + 1):
        code = f"RB{tag}-{i}"
        gate_ids.append(await catalog.add_gate(actor, venue, code, f"压测检票口 {i}"))
        tokens.append((await register_device(actor, code, f"压测闸机 {i}", f"bench-{tag}-{i}-token"))[1])
    return venue, gate_ids, tokens


async def issue_tickets(venue: int, gate_ids: list[int], tickets: int, tag: str, days: int) -> tuple[int, list[str]]:
    """A session open for admission now with `tickets` paid, issued tickets: (session id, codes)."""
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.core.clock import utcnow
    from db.core.transaction import write_transaction
    from db.sales.tables import Order, Ticket
    from db.sales.tickets.codes import keyring

    actor = Actor.system("bench")
    now = utcnow()
    event = await catalog.create_event(actor, f"检票压测 {tag}-{days}", "sport")
    start = now + dt.timedelta(days=days)  # sessions of one venue must not overlap
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event,
            venue,
            start,
            start + dt.timedelta(hours=2),
            [catalog.PriceClassSpec("站票", 8000, "", tickets)],
            gate_ids,
            admission_opens_at=now - dt.timedelta(hours=1),
            admission_closes_at=start,
        ),
    )
    pc = (await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first())["id"]
    async with write_transaction(Order._meta.db):
        order = (
            await Order.insert(
                Order(
                    code=f"B{tag}{days:03d}",
                    session=session,
                    channel="box_office",
                    status="paid",
                    buyer_name="压测",
                    buyer_phone="",
                    total_fen=8000 * tickets,
                    created_at=now,
                    paid_at=now,
                )
            ).returning(Order.id)
        )[0]["id"]
        for begin in range(0, tickets, 500):
            await Ticket.insert(
                *[
                    Ticket(order=order, session=session, price_class=pc, price_fen=8000, issued_at=now)
                    for _ in range(begin, min(tickets, begin + 500))
                ]
            )
        ids = [r["id"] for r in await Ticket.select(Ticket.id).where(Ticket.session == session).order_by(Ticket.id)]
        await PriceClass.update({PriceClass.available: 0}).where(PriceClass.id == pc)
    return session, [keyring().sign(ticket_id, session) for ticket_id in ids]


async def count_admitted(session: int) -> tuple[int, int]:
    from db.gate.tables import Admission, Scan

    return await Admission.count().where(Admission.session == session), await Scan.count().where(
        (Scan.session == session) & (Scan.status == "ok")
    )


async def run_gates(
    url: str, codes: list[str], tokens: list[str], gates: int, duplicates: float, warm_up: list[str]
) -> dict:
    work = codes + random.sample(codes, int(len(codes) * duplicates))
    random.shuffle(work)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in work:
        queue.put_nowait(code)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    http: dict[int, int] = {}
    ok_per_code: dict[str, int] = {}

    async def gate(client: aiohttp.ClientSession, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        while not queue.empty():
            code = queue.get_nowait()
            t0 = time.perf_counter()
            async with client.post(
                "/api/v1/checkin/redeem", json={"code": code, "nonce": uuid.uuid4().hex}, headers=headers
            ) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - t0)
            http[response.status] = http.get(response.status, 0) + 1
            if response.status == 200:
                status = json.loads(body)["status"]
                statuses[status] = statuses.get(status, 0) + 1
                if status == "ok":
                    ok_per_code[code] = ok_per_code.get(code, 0) + 1

    # aiohttp: a load generator that costs a fraction of httpx's CPU, which shares these 2 cores with the server.
    connector = aiohttp.TCPConnector(limit=gates)
    async with aiohttp.ClientSession(
        base_url=url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as client:
        # Warm-up, not measured: every gate opens its connection and the server's pooled database connections
        # prepare their statements, as they would have long before doors open (tickets of another session).
        async def warm(token: str, code: str) -> None:
            async with client.post(
                "/api/v1/checkin/redeem", json={"code": code}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                await response.read()

        for begin in range(0, len(warm_up), gates):
            await asyncio.gather(
                *(warm(tokens[i % len(tokens)], code) for i, code in enumerate(warm_up[begin : begin + gates]))
            )
        gc.collect()
        gc.disable()  # the load generator's own collections would show up as server latency
        started = time.perf_counter()
        await asyncio.gather(*(gate(client, tokens[i % len(tokens)]) for i in range(gates)))
        elapsed = time.perf_counter() - started
        gc.enable()
    return {
        "requests": len(work),
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "http": http,
        "tickets_ok_once": sum(1 for n in ok_per_code.values() if n == 1),
        "tickets_ok_twice": sum(1 for n in ok_per_code.values() if n > 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", required=True, help="postgresql://... or sqlite:///PATH (prepared and checked here)"
    )
    parser.add_argument("--url", help="target a running server instead of starting one (same database)")
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of tickets scanned a second time")
    parser.add_argument("--gates", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=16, help="PostgreSQL connections per worker")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
    tag = uuid.uuid4().hex[:6]
    venue, gate_ids, tokens = await prepare_gates(tag)
    sessions = [await issue_tickets(venue, gate_ids, args.tickets, tag, 10 + i) for i in range(len(args.gates))]
    warm_ups = [(await issue_tickets(venue, gate_ids, gates * 4, tag, 50 + i))[1] for i, gates in enumerate(args.gates)]
    server = None if args.url else start_server(args.database_url, args.workers, args.port, DB_POOL_SIZE=str(args.pool))
    url = args.url or f"http://127.0.0.1:{args.port}"
    database = args.database_url.split("://")[0]
    try:
        await wait_ready(url)
        for gates, (session, codes), warm_up in zip(args.gates, sessions, warm_ups, strict=False):
            server_cpu, client_cpu = tree_cpu_seconds(server.pid) if server else 0.0, time.process_time()
            result = await run_gates(url, codes, tokens, gates, args.duplicates, warm_up)
            server_cpu = (tree_cpu_seconds(server.pid) if server else 0.0) - server_cpu
            client_cpu = time.process_time() - client_cpu
            admitted, ok_scans = await count_admitted(session)
            lat = result["latencies"]
            print(
                f"redeem bench: {database}, {args.workers if not args.url else '?'} server workers, "
                f"{gates} concurrent gates, "
                f"{args.tickets} tickets + {result['requests'] - args.tickets} duplicate scans (session {session})"
            )
            print(f"  elapsed           {result['elapsed']:.2f} s")
            print(f"  redeems/second    {result['requests'] / result['elapsed']:.0f}")
            print(
                f"  latency           p50 {percentile(lat, 50) * 1000:.1f} ms, "
                f"p99 {percentile(lat, 99) * 1000:.1f} ms, "
                f"max {max(lat) * 1000:.1f} ms"
            )
            print(f"  verdicts          {dict(sorted(result['statuses'].items()))}")
            print(
                f"  ok == tickets     {result['statuses'].get('ok', 0) == args.tickets} "
                f"(tickets with one ok {result['tickets_ok_once']}, "
                f"with two or more {result['tickets_ok_twice']})"
            )
            print(f"  database          admitted {admitted}, ok scans recorded {ok_scans}")
            print(
                f"  CPU per redeem    server {server_cpu / result['requests'] * 1000:.2f} ms (all workers), "
                f"this load generator {client_cpu / result['requests'] * 1000:.2f} ms; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            print(
                f"  5xx               {sum(n for code, n in result['http'].items() if code >= 500)}   "
                f"http {dict(sorted(result['http'].items()))}"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


if __name__ == "__main__":
    asyncio.run(main())
