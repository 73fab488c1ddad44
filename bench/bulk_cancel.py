"""Bulk cancellation benchmark (issue 11, R9.3): a session with ORDERS paid orders of TICKETS tickets each,
generated with set-based INSERTs (not through the web); a supervisor proposes the cancellation, another approves
it, and the real service (`python -m web.serve`) runs the job: every order refunded (fee-free), its tickets
revoked, its buyer mailed (handed to a real local SMTP sink, aiosmtpd) and texted (SMS outbox). Prints orders/s
from the approval to the job's end, the server's peak RSS, and a database check (each order once).

    .venv/bin/python bench/bulk_cancel.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_bulk
    .venv/bin/python bench/bulk_cancel.py --database-url sqlite:///var/bench_bulk.sqlite3

The orders are paid to a partner platform (credited at once, ledger entries in the job's transaction);
--online N makes every Nth order an online (sandbox provider) payment, whose refunds go out at
BULK_PROVIDER_RATE per second (--provider-rate)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.server import free_port, start_server, wait_ready  # noqa: E402

COUNT = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) "


async def fresh_database(url: str) -> None:
    if url.startswith("postgresql"):
        import asyncpg

        base, name = url.rsplit("/", 1)
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)


async def prepare(orders: int, tickets: int, online_every: int) -> int:
    """The session and its paid orders, tickets, order lines, payments and ledger entries: its id."""
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.core.engine import engine_name
    from db.migrate import migrate
    from db.sales import demo as sales_demo
    from db.sales.aftersale import policies
    from db.sales.channels.partners import partner_for_key
    from db.sales.tables import Order
    from db.staff import demo as staff_demo

    await migrate()
    actor = Actor.system("bench")
    await staff_demo.load(actor)
    await sales_demo.load(actor)
    partner = (await partner_for_key("demo-partner-key")).id
    tag = uuid.uuid4().hex[:6].upper()
    venue = await catalog.create_venue(actor, f"取消压测场馆 {tag}", "杭州")
    gate = await catalog.add_gate(actor, venue, f"BC-{tag}", "压测入口")
    event = await catalog.create_event(actor, f"取消压测 {tag}", "performance")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    price = 28000
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event,
            venue,
            start,
            start + dt.timedelta(hours=3),
            [catalog.PriceClassSpec("看台票", price, "", orders * tickets)],
            [gate],
        ),
    )
    pc = (await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first())["id"]
    version = (await policies.in_force(event)).version
    now = dt.datetime.now(dt.UTC)
    false = "false" if engine_name(Order._meta.db) == "postgresql" else "0"
    online = f"(i % {online_every} = 0)" if online_every else "(1 = 0)"
    run = lambda sql, *values: Order.raw(sql, *values).run()  # noqa: E731
    total = price * tickets
    await run(
        COUNT.format(orders) + "INSERT INTO sales_order (code, session, channel, status, buyer_name, buyer_phone, "
        "buyer_email, buyer_id_masked, total_fen, subtotal_fen, outlet, partner, needs_audit, group_size, "
        "group_percent_off, created_at, paid_at, reject_reason) "
        f"SELECT 'BK{tag}' || i, {session}, CASE WHEN {online} THEN 'web_shop' ELSE 'partner' END, 'paid', "
        f"'压测买家', '139' || (10000000 + i), 'buyer' || i || '@example.cn', '', {total}, {total}, '', "
        f"CASE WHEN {online} THEN NULL ELSE {partner} END, {false}, 0, 0, {{}}, {{}}, '' FROM n",
        now,
        now,
    )
    mine = f"FROM sales_order o WHERE o.session = {session}"
    await run(
        'INSERT INTO sales_order_item ("order", price_class, quantity, list_price_fen, concession, id_type, '
        f"id_masked, unit_price_fen, line_total_fen) SELECT o.id, {pc}, {tickets}, {price}, '', '', '', "
        f"{price}, o.total_fen {mine}"
    )
    await run(
        COUNT.format(tickets) + 'INSERT INTO ticket ("order", session, price_class, price_fen, concession, status, '
        f"code, issued_at, policy_version) SELECT o.id, o.session, {pc}, {price}, '', 'issued', 'BKT' || o.id || '-' "
        f"|| n.i, {{}}, {version} FROM sales_order o CROSS JOIN n WHERE o.session = {session}",
        now,
    )
    await run(
        'INSERT INTO sales_payment ("order", method, amount_fen, reference, status, outcome, created_at, '
        "confirmed_at) SELECT o.id, CASE WHEN o.channel = 'web_shop' THEN 'sandbox' ELSE 'partner' END, "
        f"o.total_fen, CASE WHEN o.channel = 'web_shop' THEN 'SBXBK' || o.id END, 'succeeded', 'accepted', "
        f"{{}}, {{}} {mine}",
        now,
        now,
    )
    for kind, method in (("sale", "''"), ("payment", "p.method")):
        await run(
            'INSERT INTO finance_ledger (at, kind, amount_fen, method, channel, "order", partner, reference, '
            f"actor_name, note) SELECT {{}}, '{kind}', o.total_fen, {method}, o.channel, o.id, o.partner, '', "
            f"'bench', '' FROM sales_order o JOIN sales_payment p ON p.\"order\" = o.id WHERE o.session = {session}",
            now,
        )
    await PriceClass.update({PriceClass.available: 0}).where(PriceClass.id == pc)
    return session


def peak_rss_kb(pid: int) -> int:
    """The largest peak RSS (VmHWM) of the server's processes: the master and its workers."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    peak = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


async def verify(session: int, change_id: int) -> dict:
    from db.finance.tables import LedgerEntry
    from db.sales.aftersale.tables import Refund, RefundTicket, Revocation
    from db.sales.tables import Order, SmsMessage, Ticket
    from db.sessionchange.tables import ChangeOrder

    orders = Order.select(Order.id).where(Order.session == session)
    refunds = await Refund.select(Refund.order).where(Refund.order.is_in(orders))
    return {
        "orders": await Order.count().where(Order.session == session),
        "refunded_orders": await Order.count().where((Order.session == session) & (Order.status == "refunded")),
        "refunds": len(refunds),
        "refunded_twice": len(refunds) - len({r["order"] for r in refunds}),
        "revoked_tickets": await Ticket.count().where((Ticket.session == session) & (Ticket.status == "revoked")),
        "refund_lines": await RefundTicket.count().where(RefundTicket.refund.order.is_in(orders)),
        "revocation_log": await Revocation.count().where(Revocation.session == session),
        "ledger_refund_entries": await LedgerEntry.count().where(
            LedgerEntry.order.is_in(orders) & (LedgerEntry.kind == "refund")
        ),
        "failed": await ChangeOrder.count().where((ChangeOrder.change == change_id) & (ChangeOrder.status == "failed")),
        "mailed": await ChangeOrder.count().where(
            (ChangeOrder.change == change_id) & (ChangeOrder.mail_status == "sent")
        ),
        "sms_queued": await SmsMessage.count().where(SmsMessage.order.is_in(orders)),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--tickets", type=int, default=2, help="tickets per order")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=100, help="orders per transaction (BULK_CHUNK)")
    parser.add_argument("--online", type=int, default=0, help="every Nth order paid online (sandbox provider)")
    parser.add_argument("--provider-rate", type=float, default=1000, help="BULK_PROVIDER_RATE")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    from db.core.actor import Actor
    from db.sessionchange.operations import CANCEL, approve, progress, propose
    from db.staff.tables import StaffUser
    from tests.smtp import running_smtp_server

    await fresh_database(args.database_url)
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
    started = time.perf_counter()
    session = await prepare(args.orders, args.tickets, args.online)
    print(f"generated {args.orders} paid orders of {args.tickets} tickets in {time.perf_counter() - started:.1f} s")
    staff = {s["username"]: s for s in await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.display_name)}
    proposer = Actor(staff["zhangwei"]["id"], staff["zhangwei"]["display_name"], "supervisor")
    approver = Actor(staff["wangfang"]["id"], staff["wangfang"]["display_name"], "auditor")
    change_id = await propose(proposer, session, CANCEL, reason="压测：场馆临时关闭")
    with running_smtp_server() as (mailbox, smtp_port):
        port = free_port()
        server = start_server(
            args.database_url,
            args.workers,
            port,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp_port),
            BULK_CHUNK=str(args.chunk),
            BULK_PROVIDER_RATE=str(args.provider_rate),
            BACKUP_INTERVAL_HOURS="0",
            DB_POOL_SIZE="4",
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}")
            t0 = time.perf_counter()
            await approve(approver, change_id)
            peak = 0
            while True:
                state = await progress(change_id)
                peak = max(peak, peak_rss_kb(server.pid))
                if state["change"]["status"] == "done":
                    break
                await asyncio.sleep(0.25)
            elapsed = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(timeout=30)
        mails = len(mailbox.messages)
    checked = await verify(session, change_id)
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    print(
        f"bulk cancellation bench: {args.database_url.split('://')[0]}, {args.workers} worker(s), chunk {args.chunk}, "
        f"{args.orders} orders / {args.orders * args.tickets} tickets"
    )
    print(f"  approval to done   {elapsed:.2f} s ({args.orders / elapsed:.0f} orders/s)")
    print(f"  server peak RSS    {peak / 1024:.0f} MB")
    print(f"  mails received     {mails}")
    print(f"  database check     {checked}")


if __name__ == "__main__":
    asyncio.run(main())
