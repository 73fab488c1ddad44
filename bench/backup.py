"""Backup and verified restore of a large database (issue 14, R6.3): time and size with N tickets.

It fills the database it is given (migrations; a venue, event and general-admission session; N/10 paid
orders of 10 tickets each, written in bulk SQL with phone numbers and signed-looking codes), then runs the
same `make` and `verify` as `python -m db.backup` (verify = restore into a scratch database and compare row
counts and checksums with the manifest) and prints the figures as JSON.

    .venv/bin/python bench/backup.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_dataprot
    .venv/bin/python bench/backup.py --database-url sqlite:///var/bench-dataprot.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PER_ORDER = 10


def _fresh(url: str) -> None:
    """An empty database at `url` (dropped and made again)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import asyncpg

    name = url.rsplit("/", 1)[1]

    async def recreate() -> None:
        conn = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())


async def fill(tickets: int) -> dict:
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.migrate import migrate
    from db.sales.tables import Order

    await migrate()
    actor = Actor.system("bench")
    venue = await catalog.create_venue(actor, "备份压测体育场", "南京")
    gate = await catalog.add_gate(actor, venue, "BK-1", "压测入口")
    event = await catalog.create_event(actor, "备份压测演唱会", "performance")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event, venue, start, start + dt.timedelta(hours=4), [catalog.PriceClassSpec("看台", 38000, "", 1)], [gate]
        ),
    )
    price_class = (await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first())["id"]
    orders = tickets // PER_ORDER
    now = dt.datetime.now(dt.UTC)
    postgres = not os.environ["DATABASE_URL"].startswith("sqlite")
    numbers = (
        "generate_series(1, {}) AS g(n)"
        if postgres
        else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) AS g"
    )
    text = "::text" if postgres else ""
    started = time.perf_counter()
    await Order.raw(
        "INSERT INTO sales_order (code, session, channel, status, buyer_name, buyer_phone, buyer_email, total_fen, "
        "subtotal_fen, created_at, paid_at) "
        f"SELECT 'BK' || g.n{text}, {{}}, 'partner', 'paid', '购票人' || g.n{text}, '139' || (10000000 + g.n){text}, "
        f"'buyer' || g.n{text} || '@example.cn', {38000 * PER_ORDER}, {38000 * PER_ORDER}, {{}}, {{}} FROM {numbers}",
        session,
        now,
        now,
        orders,
    ).run()
    per = (
        "generate_series(1, {})"
        if postgres
        else "(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {}) SELECT k FROM s)"
    )
    k = "k.k" if not postgres else "k"
    await Order.raw(
        'INSERT INTO ticket ("order", session, price_class, price_fen, concession, status, code, issued_at) '
        f"SELECT o.id, o.session, {{}}, 38000, '', 'issued', 'TC1.' || o.id{text} || '.' || {k}{text} || "
        f"'.c2lnbmF0dXJlLW9mLWEtdGlja2V0LWNvZGU', {{}} FROM sales_order o, {per} AS k "
        "WHERE o.session = {}",
        price_class,
        now,
        PER_ORDER,
        session,
    ).run()
    if postgres:
        await Order.raw("ANALYZE").run()
    return {"orders": orders, "tickets": orders * PER_ORDER, "fill_seconds": round(time.perf_counter() - started, 1)}


async def measure() -> dict:
    from db.ops import backup

    started = time.perf_counter()
    manifest = await backup.make()
    made = time.perf_counter() - started
    file = backup.backup_dir() / manifest.file
    verified = await backup.verify(file)
    return {
        "backup_seconds": round(made, 1),
        "backup_bytes": manifest.size,
        "backup_mb": round(manifest.size / 1048576, 1),
        "verify_restore_seconds": round(verified.seconds, 1),
        "rows_backed_up": sum(manifest.snapshot.counts.values()),
        "tickets_in_backup": manifest.snapshot.counts["ticket"],
        "file": str(file),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--backup-dir", default=None, help="default: a temporary folder, removed afterwards")
    args = parser.parse_args()
    _fresh(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory(prefix="tc-bench-backup-") as folder:
        os.environ["BACKUP_DIR"] = args.backup_dir or folder
        from db.core.engine import run_tool

        figures: dict = {"engine": "postgresql" if args.database_url.startswith("postgres") else "sqlite"}

        async def run() -> None:
            figures.update(await fill(args.tickets))
            figures.update(await measure())

        run_tool(run())
        print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
