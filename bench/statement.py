"""A partner's monthly statement over N partner orders (issue 12, R8.1; target: 200,000 orders in < 2 s).

It fills the database it is given (migrations; a venue, event and general-admission session; a partner with
an agreement of 5.5 % + 1 yuan a ticket; N paid partner orders of 2 tickets each spread over last month, each
with its sale and payment ledger entries; every 20th order with a refund of one ticket: the refund, its ticket
and its ledger entries), written in bulk SQL, then times `create_statement` (the overlap check, the lines by one
INSERT ... SELECT from the ledger, the totals and the digest) twice (the first draft discarded in between) and
`verify` (the re-run joined with the stored lines), and checks that both drafts have the same digest and the
re-run the same lines. Prints JSON.

    .venv/bin/python bench/statement.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench_statement
    .venv/bin/python bench/statement.py --database-url sqlite:///var/bench-statement.sqlite3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.backup import _fresh  # noqa: E402  (an empty database at the URL)

PRICE = 38000


def _last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


async def fill(orders: int) -> dict:
    from db.catalog import operations as catalog
    from db.catalog.tables import PriceClass
    from db.core.actor import Actor
    from db.finance import settlement
    from db.finance.ledger import venue_day
    from db.finance.reconciliation import day_window
    from db.migrate import migrate
    from db.sales.tables import Order, Partner

    await migrate()
    actor = Actor.system("bench")
    venue = await catalog.create_venue(actor, "结算压测体育场", "杭州")
    gate = await catalog.add_gate(actor, venue, "ST-1", "压测入口")
    event = await catalog.create_event(actor, "结算压测演唱会", "performance")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    session = await catalog.create_session(
        actor,
        catalog.SessionSpec(
            event, venue, start, start + dt.timedelta(hours=4), [catalog.PriceClassSpec("看台", PRICE, "", 1)], [gate]
        ),
    )
    price_class = (await PriceClass.select(PriceClass.id).where(PriceClass.session == session).first())["id"]
    now = dt.datetime.now(dt.UTC)
    partner = (await Partner.insert(Partner(name="压测合作平台", active=True, created_at=now)).returning(Partner.id))[
        0
    ]["id"]
    first, last = _last_month(venue_day(now))
    await settlement.save_agreement(
        actor,
        partner,
        commission_bp=550,
        per_ticket_fen=100,
        cycle="monthly",
        settlement_day=1,
        valid_from=first,
    )
    since, until = day_window(first)[0], day_window(last)[1]
    step = max(1, int((until - since).total_seconds() // (orders + 1)))
    postgres = not os.environ["DATABASE_URL"].startswith("sqlite")
    numbers = (
        "generate_series(1, {}) AS g(n)"
        if postgres
        else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) AS g"
    )
    text = "::text" if postgres else ""
    at = (
        f"({{}}::timestamptz + g.n * interval '{step} seconds')"
        if postgres
        else f"(datetime({{}}, '+' || (g.n * {step}) || ' seconds') || '+00:00')"
    )
    base = since if postgres else since.strftime("%Y-%m-%d %H:%M:%S")
    started = time.perf_counter()
    await Order.raw(
        "INSERT INTO sales_order (code, session, channel, status, buyer_name, buyer_phone, buyer_email, total_fen, "
        "subtotal_fen, partner, created_at, paid_at) "
        f"SELECT 'ST' || g.n{text}, {{}}, 'partner', 'paid', '购票人' || g.n{text}, '139' || (10000000 + g.n){text}, "
        f"'', {2 * PRICE}, {2 * PRICE}, {{}}, {at}, {at} FROM {numbers}",
        session,
        partner,
        base,
        base,
        orders,
    ).run()
    await Order.raw(
        'INSERT INTO ticket ("order", session, price_class, price_fen, concession, status, code, issued_at) '
        f"SELECT o.id, o.session, {{}}, {PRICE}, '', 'issued', 'ST.' || o.id{text} || '.' || k.k{text}, o.paid_at "
        "FROM sales_order o, (SELECT 1 AS k UNION ALL SELECT 2) AS k WHERE o.session = {}",
        price_class,
        session,
    ).run()
    for kind in ("sale", "payment"):
        await Order.raw(
            'INSERT INTO finance_ledger (at, kind, amount_fen, method, channel, "order", partner, reference, '
            "actor_name, note) "
            f"SELECT o.paid_at, '{kind}', o.total_fen, '{'partner' if kind == 'payment' else ''}', 'partner', o.id, "
            "o.partner, '', 'bench', '' FROM sales_order o WHERE o.session = {}",
            session,
        ).run()
    await Order.raw("ANALYZE").run()  # PostgreSQL planned the refunds' ticket lookups as scans without it
    refund_fen, fee_fen = PRICE - 3800, 3800
    later = "o.paid_at + interval '1 hour'" if postgres else "datetime(o.paid_at, '+1 hour') || '+00:00'"
    await Order.raw(
        'INSERT INTO aftersale_refund (number, "order", status, cause, method, price_fen, fee_fen, refund_fen, '
        "policy_version, breakdown, proof, id_masked, channel, partner, requested_by_name, requested_at, "
        "approved_by_name, reference, done_at, failure) "
        f"SELECT 'RFST' || o.id{text}, o.id, 'done', 'request', 'partner', {PRICE}, {fee_fen}, {refund_fen}, 1, "
        f"{{}}, '', '', 'partner', o.partner, 'bench', {later}, '', '', {later}, '' "
        "FROM sales_order o WHERE o.session = {} AND o.id % 20 = 0",
        "{}",  # the breakdown (JSON), as a parameter: a literal {} would be a placeholder
        session,
    ).run()
    await Order.raw(
        "INSERT INTO aftersale_refund_ticket (refund, ticket, price_fen, fee_fen, refund_fen) "
        f'SELECT r.id, (SELECT MIN(t.id) FROM ticket t WHERE t."order" = r."order"), {PRICE}, {fee_fen}, '
        f"{refund_fen} FROM aftersale_refund r WHERE r.number LIKE 'RFST%'"
    ).run()
    for kind, amount in (("sale", -PRICE), ("fee_kept", fee_fen), ("refund", -refund_fen)):
        await Order.raw(
            'INSERT INTO finance_ledger (at, kind, amount_fen, method, channel, "order", partner, refund_id, '
            "reference, actor_name, note) "
            f"SELECT r.done_at, '{kind}', {amount}, '{'partner' if kind == 'refund' else ''}', 'partner', r.\"order\", "
            "r.partner, r.id, '', 'bench', r.number FROM aftersale_refund r WHERE r.number LIKE 'RFST%'"
        ).run()
    await Order.raw("ANALYZE").run()
    return {
        "partner": partner,
        "period": [first.isoformat(), last.isoformat()],
        "orders": orders,
        "refunds": orders // 20,
        "fill_seconds": round(time.perf_counter() - started, 1),
    }


async def measure(partner: int, first: dt.date, last: dt.date) -> dict:
    from db.core.actor import Actor
    from db.finance import settlement

    figures: dict = {}
    statement_ids = []
    for run in (1, 2):  # the second after discarding the first: the same period made again
        started = time.perf_counter()
        statement_ids.append(await settlement.create_statement(Actor.system("bench"), partner, first, last))
        figures[f"create_statement_seconds_run{run}"] = round(time.perf_counter() - started, 3)
        if run == 1:
            await settlement.discard(Actor.system("bench"), statement_ids[0])
    started = time.perf_counter()
    row, rerun = await settlement.verify(statement_ids[1])
    figures["verify_seconds"] = round(time.perf_counter() - started, 3)
    first_row = await settlement.get_statement(statement_ids[0])
    figures.update(
        lines=row["orders"],
        sales_fen=row["sales_fen"],
        refunds_fen=row["refunds_fen"],
        commission_fen=row["commission_fen"],
        due_fen=row["due_fen"],
        reproducible=rerun.same and first_row["digest"] == row["digest"] and rerun.due_fen == row["due_fen"],
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    _fresh(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    from db.core.engine import run_tool

    figures: dict = {"engine": "postgresql" if args.database_url.startswith("postgres") else "sqlite"}

    async def run() -> None:
        filled = await fill(args.orders)
        figures.update(filled)
        first, last = (dt.date.fromisoformat(d) for d in filled["period"])
        figures.update(await measure(filled["partner"], first, last))

    run_tool(run())
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
