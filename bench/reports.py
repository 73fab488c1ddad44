"""Reports benchmark (issue 12 part A, R6.2): a database with N tickets (default 1,000,000) filled in bulk SQL
(generate_series on PostgreSQL, a recursive CTE on SQLite): 20 events of four kinds, 100 sessions, orders of
4 tickets over 60 days through all four channels (box office cash and card by 5 sellers, outlet mobile,
partner, web shop), each paid order with its ledger entries, and one order in ten refunded one ticket (the
refund, its ticket and its ledger entries: sale -, fee kept, refund). Then each report runs once, first run,
no cache (a fresh connection, nothing computed before), and the XLSX export of every ticket line goes through
a real server (`python -m web.serve`) with its progress polled as the page does; the server's peak RSS and
the rows per second are printed.

    .venv/bin/python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_reports
    .venv/bin/python bench/reports.py --database-url sqlite:///var/bench-reports.sqlite3

Targets: sales by day x channel x event < 1 s on PostgreSQL, < 3 s on SQLite; the export streams with the
server's peak RSS < 300 MB."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.backup import _fresh  # noqa: E402
from bench.server import free_port, start_server, wait_ready  # noqa: E402

PER_ORDER = 4
EVENTS = 20
SESSIONS_PER_EVENT = 5
DAYS = 60
SELLERS = 5
PASSWORD = "Bench-Reports-2026!"


async def fill(tickets: int) -> dict:
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.core.engine import is_postgres
    from db.migrate import migrate
    from db.sales.channels.partners import create_partner_key
    from db.sales.tables import Order, Partner
    from db.staff.accounts import create_staff

    await migrate()
    actor = Actor.system("bench")
    sellers = [await create_staff(actor, f"seller{i}", f"售票员{i}", "seller", PASSWORD) for i in range(SELLERS)]
    await create_staff(actor, "boss", "主管", "supervisor", PASSWORD)
    await create_partner_key(actor, "压测票务平台", "bench-partner-key")
    partner = (await Partner.select(Partner.id).first())["id"]
    venue = await catalog.create_venue(actor, "报表压测体育馆", "南京")
    gate = await catalog.add_gate(actor, venue, "RP-1", "压测入口")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=DAYS // 2)
    kinds = ("performance", "sport", "film", "attraction")
    classes: list[tuple[int, int]] = []  # (session, price class) in id order
    for e in range(EVENTS):
        event = await catalog.create_event(actor, f"压测活动{e + 1:02d}", kinds[e % 4])
        for s in range(SESSIONS_PER_EVENT):
            at = start + dt.timedelta(hours=14 * (e * SESSIONS_PER_EVENT + s))
            session = await catalog.create_session(
                actor,
                catalog.SessionSpec(
                    event,
                    venue,
                    at,
                    at + dt.timedelta(hours=3),
                    [
                        catalog.PriceClassSpec("看台", 18000, "", 100000),
                        catalog.PriceClassSpec("内场", 58000, "", 100000),
                    ],
                    [gate],
                ),
            )
            pc = await PriceClass.select(PriceClass.id).where(PriceClass.session == session).order_by(PriceClass.id)
            classes.append((session, pc[0]["id"]))
    sessions = len(classes)
    first_session, first_class = classes[0]
    assert all(s == first_session + i and c == first_class + 2 * i for i, (s, c) in enumerate(classes)), classes
    orders = tickets // PER_ORDER
    postgres = is_postgres(Order._meta.db)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if postgres:
        series = "generate_series(1, {}) AS g(n)"
        ts = "({}::timestamptz - (g.n % " + str(DAYS) + ") * interval '1 day' - (g.n % 50000) * interval '1 second')"
        txt = "::text"
    else:
        series = "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) AS g"
        ts = (
            "(strftime('%Y-%m-%d %H:%M:%f', {}, '-' || (g.n % " + str(DAYS) + ") || ' days', "
            "'-' || (g.n % 50000) || ' seconds') || '+00:00')"
        )
        txt = ""
    channel = "CASE g.n % 5 WHEN 0 THEN 'partner' WHEN 1 THEN 'outlet' WHEN 2 THEN 'web_shop' ELSE 'box_office' END"
    seller = f"CASE WHEN g.n % 5 IN (3, 4) THEN {sellers[0]} + (g.n % {SELLERS}) ELSE NULL END"
    started = time.perf_counter()
    await Order.raw(
        "INSERT INTO sales_order (code, session, channel, status, buyer_name, buyer_phone, buyer_email, total_fen, "
        "subtotal_fen, created_at, paid_at, seller, partner, outlet) "
        f"SELECT 'RP' || g.n{txt}, {first_session} + (g.n % {sessions}), {channel}, "
        f"'paid', '购票人' || (g.n % 150000){txt}, "
        f"'139' || (10000000 + g.n % 150000){txt}, '', {18000 * PER_ORDER}, {18000 * PER_ORDER}, {ts}, {ts}, "
        f"{seller}, CASE WHEN g.n % 5 = 0 THEN {partner} ELSE NULL END, "
        f"CASE WHEN g.n % 5 = 1 THEN '鼓楼网点' ELSE '' END FROM {series}",
        now,
        now,
        orders,
    ).run()
    per = (
        "generate_series(1, {}) AS k(k)"
        if postgres
        else "(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {}) SELECT k FROM s) AS k"
    )
    await Order.raw(
        'INSERT INTO ticket ("order", session, price_class, price_fen, concession, status, code, issued_at) '
        f"SELECT o.id, o.session, {first_class} + 2 * (o.session - {first_session}), 18000, "
        "CASE WHEN k.k = 4 AND o.id % 3 = 0 THEN 'student' ELSE '' END, "
        "CASE WHEN k.k = 1 AND o.id % 10 = 7 THEN 'revoked' ELSE 'issued' END, "
        f"'TC1.' || o.id{txt} || '.' || k.k{txt} || '.c2lnbmF0dXJl', o.paid_at FROM sales_order o, {per}",
        PER_ORDER,
    ).run()
    method = (
        "CASE o.channel WHEN 'partner' THEN 'partner' WHEN 'outlet' THEN 'mobile' WHEN 'web_shop' THEN 'sandbox' "
        "ELSE CASE WHEN o.id % 2 = 0 THEN 'cash' ELSE 'card' END END"
    )
    ledger_cols = (
        '(at, kind, amount_fen, method, channel, "order", partner, drawer_id, reference, actor_id, actor_name, note)'
    )
    for kind, amount, paid_by in (("sale", "o.total_fen", "''"), ("payment", "o.total_fen", method)):
        await Order.raw(
            f"INSERT INTO finance_ledger {ledger_cols} SELECT o.paid_at, '{kind}', {amount}, "
            f"{paid_by}, o.channel, o.id, o.partner, o.seller, '', o.seller, "
            "COALESCE((SELECT display_name FROM staff_user WHERE id = o.seller), '压测'), '' FROM sales_order o"
        ).run()
    # One order in ten: its first ticket refunded a day later, 10 % fee kept.
    refunded_at = (
        "o.paid_at + interval '1 day'" if postgres else "strftime('%Y-%m-%d %H:%M:%f', o.paid_at, '+1 day') || '+00:00'"
    )
    await Order.raw(
        'INSERT INTO aftersale_refund (number, "order", status, cause, method, price_fen, fee_fen, refund_fen, '
        "policy_version, channel, requested_by_name, requested_at, done_at) "
        f"SELECT 'RF' || o.id{txt}, o.id, 'done', 'request', {method}, 18000, 1800, "
        f"16200, 1, o.channel, '压测', {refunded_at}, {refunded_at} "
        "FROM sales_order o WHERE o.id % 10 = 7"
    ).run()
    await Order.raw(
        "INSERT INTO aftersale_refund_ticket (refund, ticket, price_fen, fee_fen, refund_fen) "
        'SELECT r.id, t.id, 18000, 1800, 16200 FROM aftersale_refund r JOIN ticket t ON t."order" = r."order" '
        "AND t.status = 'revoked'"
    ).run()
    for kind, amount, paid_by in (("sale", -18000, "''"), ("fee_kept", 1800, "''"), ("refund", -16200, "r.method")):
        await Order.raw(
            f"INSERT INTO finance_ledger {ledger_cols[:-1]}, refund_id) SELECT r.done_at, '{kind}', {amount}, "
            f"{paid_by}, o.channel, o.id, o.partner, o.seller, '', o.seller, '压测', '', "
            'r.id FROM aftersale_refund r JOIN sales_order o ON o.id = r."order"'
        ).run()
    await Order.raw("ANALYZE").run()
    counts = {}
    for table in ("sales_order", "ticket", "finance_ledger", "aftersale_refund"):
        counts[table] = (await Order.raw(f"SELECT COUNT(*) AS n FROM {table}").run())[0]["n"]
    return {"fill_seconds": round(time.perf_counter() - started, 1), **counts}


async def time_reports() -> dict:
    """Each report once over the whole 60 days (first run: a new connection, no cache of ours)."""
    from piccolo.engine.finder import engine_finder

    from db.core.engine import close_engine
    from db.reports import sales, summary
    from db.reports.catalog import REPORTS
    from db.reports.filters import parse, today

    await close_engine(engine_finder())  # drop kept connections: the first query opens a fresh one
    filters = parse(
        {
            "since": (today() - dt.timedelta(days=DAYS + 40)).isoformat(),
            "until": (today() + dt.timedelta(days=40)).isoformat(),
        }
    )
    figures = {}
    started = time.perf_counter()
    rows = await sales.by_dimension(filters, "day_channel_event")
    figures["sales/day_channel_event, no summary yet (every entry live)"] = {
        "seconds": round(time.perf_counter() - started, 3),
        "rows": len(rows),
    }
    started = time.perf_counter()
    summed = await summary.refresh(lag=dt.timedelta(0))
    figures["summary refresh (the 30-second job), all entries at once"] = {
        "seconds": round(time.perf_counter() - started, 3),
        "entries": summed,
    }
    for key, report in REPORTS.items():
        if report.streamed is not None:
            continue
        started = time.perf_counter()
        rows = await report.query(filters)
        figures[key] = {"seconds": round(time.perf_counter() - started, 3), "rows": len(rows)}
    for basis in ("event",):
        started = time.perf_counter()
        rows = await REPORTS["sales/day_channel_event"].query(parse({**filters.as_params(), "basis": basis}))
        figures["sales/day_channel_event (by event date)"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "rows": len(rows),
        }
    return figures


def _tree_peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) among the server process and its workers."""
    peaks = []
    for p in [pid, *_children(pid)]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", text)
        if match:
            peaks.append(int(match.group(1)) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


async def export_through_server(database_url: str, folder: Path) -> dict:
    port = free_port()
    server = start_server(
        database_url, 1, port, EXPORT_DIR=str(folder), BACKUP_INTERVAL_HOURS="0", DB_POOL_SIZE="4", TC_COOKIE_SECURE="0"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, 90)
        idle = _tree_peak_rss_mb(server.pid)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            login = await client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)
            await client.post("/login", data={"username": "boss", "password": PASSWORD, "_csrf_token": token})
            started = time.perf_counter()
            since = (dt.date.today() - dt.timedelta(days=DAYS + 5)).isoformat()
            answer = await client.get(f"/reports/sales/lines?since={since}&format=xlsx", follow_redirects=False)
            assert answer.status_code == 303, answer.status_code
            url = answer.headers["location"]
            polls = 0
            while True:
                page = await client.get(url, headers={"hx-request": "true"})
                polls += 1
                if 'data-status="done"' in page.text:
                    break
                assert 'data-status="running"' in page.text, page.text[:500]
                await asyncio.sleep(1)
            written = time.perf_counter() - started
            size = 0
            async with client.stream("GET", f"{url}/file") as download:
                async for chunk in download.aiter_bytes():
                    size += len(chunk)
            total = time.perf_counter() - started
        return {
            "export_seconds_to_file": round(written, 1),
            "export_seconds_with_download": round(total, 1),
            "export_mb": round(size / 1048576, 1),
            "progress_polls": polls,
            "server_idle_peak_rss_mb": idle,
            "server_peak_rss_mb": _tree_peak_rss_mb(server.pid),
        }
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    _fresh(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    from db.core.engine import run_tool

    figures: dict = {"engine": "postgresql" if args.database_url.startswith("postgres") else "sqlite"}

    async def run() -> None:
        figures["fill"] = await fill(args.tickets)
        figures["reports"] = await time_reports()

    run_tool(run())
    if not args.skip_export:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tc-bench-export-") as folder:
            figures["export"] = asyncio.run(export_through_server(args.database_url, Path(folder)))
            lines = figures["fill"]["ticket"]
            figures["export"]["export_rows"] = lines
            figures["export"]["export_rows_per_second"] = round(lines / figures["export"]["export_seconds_to_file"])
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
