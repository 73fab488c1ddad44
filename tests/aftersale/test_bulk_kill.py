"""The bulk cancellation job survives the server being killed (issue 11, R9.3): the real service
(`python -m web.serve`) runs the job; SIGKILL of the whole service mid-job, a restart, and then every order is
done once, none twice, none skipped: one refund per order, each ticket revoked once, one ledger refund entry
per order, every provider refund sent (at the provider rate limit) and settled by the sandbox over HTTP, every
buyer mailed once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from db.finance.tables import LedgerEntry
from db.sales.aftersale.tables import Refund, RefundTicket, Revocation
from db.sales.channels.shop import pay, place_order, start_payment
from db.sales.ordering.orders import ItemRequest
from db.sales.tables import Ticket
from db.sessionchange.operations import CANCEL, approve, progress, propose
from db.sessionchange.tables import ChangeOrder
from tests.aftersale.support import OTHER_SUPERVISOR, SUPERVISOR, staff
from tests.helpers import free_port
from tests.sales.support import BUYER, sales_catalog
from tests.smtp import running_smtp_server

ROOT = Path(__file__).resolve().parent.parent.parent
ORDERS = 20


def _serve(port: int, smtp_port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SANDBOX_PROVIDER_URL": f"http://127.0.0.1:{port}",  # the sandbox provider lives in the served app
        "BULK_CHUNK": "3",
        "BULK_PROVIDER_RATE": "4",
        "BULK_LEASE_SECONDS": "2",
        "BACKUP_INTERVAL_HOURS": "0",
        "DB_POOL_SIZE": "3",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "web.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: the kill takes the master and its worker
        )


async def _ready(port: int) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the server did not start")


async def _until(condition, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = await condition()
        if state:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_sigkill_mid_job_then_restart_does_every_order_exactly_once(tmp_path):
    ids = await sales_catalog()
    await staff()
    for n in range(ORDERS):  # online orders paid through the sandbox provider: their refunds go back to it
        order = await place_order(
            f"client{n}", ids["ga_session"], BUYER, [ItemRequest(price_class_id=ids["ga_class"], quantity=2)]
        )
        await pay((await start_payment(f"client{n}", order.code)).reference)
    change_id = await propose(SUPERVISOR, ids["ga_session"], CANCEL, reason="暴雨红色预警，景区闭园")
    with running_smtp_server() as (mailbox, smtp_port):
        port = free_port()
        server = _serve(port, smtp_port, tmp_path / "serve.log")
        try:
            await _ready(port)
            await approve(OTHER_SUPERVISOR, change_id)

            async def partly_done():
                state = await progress(change_id)
                return state if 6 <= state["done"] < ORDERS else None

            at_kill = await _until(partly_done, 60)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
        sent_before = await Refund.count().where(Refund.status == "done")
        assert at_kill["done"] < ORDERS and sent_before < ORDERS, "the kill came too late to test anything"
        restarted = _serve(port, smtp_port, tmp_path / "serve.log")
        try:
            await _ready(port)

            async def finished():  # the job is done and the provider has settled every refund
                state = await progress(change_id)
                settled = await Refund.count().where(Refund.status == "done") == ORDERS
                return state if state["change"]["status"] == "done" and settled else None

            final = await _until(finished, 120)
        finally:
            os.killpg(restarted.pid, signal.SIGTERM)
            restarted.wait(20)
        emails = mailbox.emails()
    assert (final["total"], final["done"], final["failed"], final["pending"]) == (ORDERS, ORDERS, 0, 0)
    refunds = await Refund.select(Refund.order, Refund.status, Refund.fee_fen)
    assert len(refunds) == ORDERS and len({r["order"] for r in refunds}) == ORDERS  # once each, none skipped
    assert {(r["status"], r["fee_fen"]) for r in refunds} == {("done", 0)}  # every provider refund sent, no fee
    assert await RefundTicket.count() == 2 * ORDERS and await Revocation.count() == 2 * ORDERS
    assert {t["status"] for t in await Ticket.select(Ticket.status).where(Ticket.session == ids["ga_session"])} == {
        "revoked"
    }
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == ORDERS
    assert all(r["refund_id"] for r in await ChangeOrder.select(ChangeOrder.refund_id))
    # each buyer mailed once: no notice twice (one Message-ID per order), none skipped but one whose end was
    # being written at the very instant of the kill (left `sending`, shown as such in the report)
    notices = [m["Message-ID"] for m in emails]
    assert len(set(notices)) == len(notices), "a buyer was mailed twice"
    marks = Counter(r["mail_status"] for r in await ChangeOrder.select(ChangeOrder.mail_status))
    assert marks["sent"] + marks["sending"] == ORDERS and marks["sending"] <= 3
    assert marks["sent"] <= len(notices) <= ORDERS
