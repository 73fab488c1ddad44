"""The gate PCs' least-privilege PostgreSQL role (issue 14, R6.3): made by `python -m db.ops.gate_role
create`, it redeems tickets, syncs and uploads an offline journal through the camera client's own code, and
cannot read buyers, staff accounts or write orders, payments or tickets."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import textwrap
import uuid

import asyncpg
import pytest

from db.catalog.tables import EventSession
from db.core.engine import ROOT, database_url
from tests.helpers import http_client
from tests.sales.support import AUTH, BUYER, sales_catalog

pytestmark = pytest.mark.skipif(
    not database_url().startswith("postgresql"), reason="a PostgreSQL role: runs in the PostgreSQL run of the suite"
)

GATE_CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, uuid
    from db.core.engine import run_tool
    from db.core.actor import Actor
    from db.gate.devices import gate_by_code
    from db.gate.redeem import redeem
    from db.gate.sync import apply_journal, snapshot

    async def main():
        first, second = sys.argv[1], sys.argv[2]
        gate = await gate_by_code("P-1")
        admitted = await redeem(first, gate, nonce=uuid.uuid4().hex)
        again = await redeem(first, gate, nonce=uuid.uuid4().hex)
        cache = await snapshot(gate)
        journal = await apply_journal(Actor.system("gate-pc"), gate, [
            {"nonce": uuid.uuid4().hex, "code": second, "direction": "in", "at": "2026-12-01T10:00:00+08:00",
             "status": "ok", "reason_code": ""}])
        print(json.dumps({"first": admitted["status"], "again": again["status"], "sessions": len(cache["sessions"]),
                          "journal": journal}))

    run_tool(main())
    """
)


async def _paid_tickets(ids) -> list[str]:
    async with http_client() as client:
        placed = await client.post(
            "/api/v1/orders",
            headers={**AUTH, "Idempotency-Key": uuid.uuid4().hex},
            json={
                "session_id": ids["ga_session"],
                "items": [{"price_class_id": ids["ga_class"], "quantity": 2}],
                "buyer": {"name": BUYER.name, "phone": BUYER.phone, "email": BUYER.email},
            },
        )
        paid = await client.post(f"/api/v1/orders/{placed.json()['code']}/pay", headers=AUTH)
    return [t["qr"] for t in paid.json()["tickets"]]


async def test_the_gate_role_redeems_and_syncs_but_cannot_read_buyers_or_write_orders():
    ids = await sales_catalog()
    codes = await _paid_tickets(ids)
    now = dt.datetime.now(dt.UTC)
    await EventSession.update({EventSession.admission_opens_at: now - dt.timedelta(hours=1)}).where(
        EventSession.id == ids["ga_session"]
    )
    role = f"tc_gate_{uuid.uuid4().hex[:8]}"
    made = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "db.ops.gate_role", "create", role, "--password", "gate-secret-123"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    gate_url = made.stdout.strip()
    assert gate_url.startswith(f"postgresql://{role}:") and gate_url.endswith(database_url().rsplit("/", 1)[1])
    try:
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", GATE_CLIENT, *codes],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": gate_url},
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        assert '"first": "ok"' in run.stdout and '"again": "ok"' not in run.stdout
        assert '"recorded": 1' in run.stdout

        conn = await asyncpg.connect(gate_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM sales_order WHERE status = 'paid'") == 1
            for statement in (
                "SELECT buyer_phone FROM sales_order",
                "SELECT buyer_name, buyer_email FROM sales_order",
                "SELECT * FROM sales_order",
                "SELECT * FROM staff_user",
                "SELECT * FROM staff_session",
                "SELECT * FROM sales_payment",
                "SELECT * FROM audit_entry",
                "UPDATE sales_order SET status = 'paid'",
                "UPDATE ticket SET status = 'issued'",
                "UPDATE ticket SET code = 'X'",
                'UPDATE ticket SET "order" = 1',
                "INSERT INTO sales_order (code) VALUES ('X')",
                "INSERT INTO ticket (code) VALUES ('X')",
                "DELETE FROM gate_scan",
                "DELETE FROM sales_order",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect(database_url())
        try:
            await admin.execute(f'DROP OWNED BY "{role}"')
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()
