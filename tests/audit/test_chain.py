"""The tamper-evident audit chain (issue 14, R6.3): every entry sealed in one chain; an entry edited or
deleted afterwards, or cut off the end, is named by `python -m db.audit verify` (exit 1); two sealers and
many writers at once never fork the chain, on both engines."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from db.audit import chain
from db.audit.record import record
from db.audit.tables import AuditEntry, AuditSeal
from db.core.actor import Actor
from db.core.engine import ROOT, engine_name
from db.core.transaction import write_transaction

SELLER = Actor(7, "李娜", "seller")


async def write(n: int, action: str = "order.pay") -> None:
    for i in range(n):
        await record(SELLER, action, "order", f"TC{i:05d}", summary=f"付款 {i}", after={"total_fen": 100 * i})


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "db.audit", *args], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True
    )


async def entry_id_at(seq: int) -> int:
    return (await AuditEntry.select(AuditEntry.id).where(AuditEntry.chain_seq == seq).first())["id"]


async def test_sealed_chain_verifies_and_names_an_edited_entry():
    await write(12)
    assert await chain.seal() == 12
    verdict = await chain.verify()
    assert verdict.ok and verdict.checked == 12 and verdict.unsealed == 0
    ok = cli("verify")
    assert ok.returncode == 0 and "12 entries verified" in ok.stdout

    edited = await entry_id_at(5)
    await AuditEntry.update({AuditEntry.summary: "付款 0"}).where(AuditEntry.id == edited)
    verdict = await chain.verify()
    assert verdict.problem == chain.Problem(chain.PROBLEM_CHANGED, seq=5, entry=edited)
    broken = cli("verify")
    assert broken.returncode == 1
    assert f"Entry #{edited} (place 5 in the chain) was changed" in broken.stderr


async def test_a_changed_json_value_or_actor_is_found():
    await write(3)
    await chain.seal()
    target = await entry_id_at(2)
    await AuditEntry.update({AuditEntry.after: {"total_fen": 1}}).where(AuditEntry.id == target)
    assert (await chain.verify()).problem.entry == target
    await AuditEntry.update({AuditEntry.after: {"total_fen": 100}}).where(AuditEntry.id == target)
    assert (await chain.verify()).ok  # the original value again: the chain holds
    await AuditEntry.update({AuditEntry.actor_name: "王芳"}).where(AuditEntry.id == target)
    assert (await chain.verify()).problem.entry == target


async def test_a_deleted_entry_is_named_by_its_place_and_the_next_entry():
    await write(10)
    await chain.seal()
    gone, after = await entry_id_at(4), await entry_id_at(5)
    await AuditEntry.delete().where(AuditEntry.id == gone)
    verdict = await chain.verify()
    assert verdict.problem == chain.Problem(chain.PROBLEM_MISSING, seq=4, entry=after)
    broken = cli("verify")
    assert broken.returncode == 1 and "place 4 in the chain is missing" in broken.stderr


async def test_entries_cut_off_the_end_are_noticed():
    await write(10)
    await chain.seal()
    await AuditEntry.delete().where(AuditEntry.chain_seq > 7)
    verdict = await chain.verify()
    assert verdict.problem == chain.Problem(chain.PROBLEM_CUT, seq=7, sealed=10)


async def test_renumbering_after_a_delete_does_not_hide_it():
    await write(6)
    await chain.seal()
    await AuditEntry.delete().where(AuditEntry.chain_seq == 3)
    for seq in (4, 5, 6):
        await AuditEntry.update({AuditEntry.chain_seq: seq - 1}).where(AuditEntry.chain_seq == seq)
    verdict = await chain.verify()
    assert verdict.problem is not None and verdict.problem.seq == 3


async def test_entries_written_after_a_seal_join_the_chain_at_the_next_seal():
    await write(4)
    await chain.seal()
    await write(3, "order.cancel")
    verdict = await chain.verify()
    assert verdict.ok and verdict.checked == 4 and verdict.unsealed == 3
    assert await chain.seal() == 3
    verdict = await chain.verify()
    assert verdict.ok and verdict.checked == 7 and verdict.unsealed == 0
    assert await AuditSeal.count() == 2
    # sealing in small batches gives the same chain
    await write(11)
    assert await chain.seal(batch=4) == 11
    assert (await chain.verify()).checked == 18


async def test_many_writers_and_two_sealers_at_once_never_fork_the_chain():
    async def writer(k: int) -> None:
        for i in range(15):
            await record(SELLER, "order.pay", "order", f"W{k}-{i}")
            await asyncio.sleep(0)

    async def sealer() -> None:
        for _ in range(20):
            await chain.seal(batch=7)
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(k) for k in range(6)), sealer(), sealer())
    await chain.seal()
    verdict = await chain.verify()
    assert verdict.ok and verdict.checked == 90 and verdict.unsealed == 0
    places = [r["chain_seq"] for r in await AuditEntry.select(AuditEntry.chain_seq).order_by(AuditEntry.chain_seq)]
    assert places == list(range(1, 91))


async def test_an_entry_that_commits_after_a_later_one_was_sealed_gets_a_later_place():
    """PostgreSQL takes ids before commit: entry 1 may commit after entry 2 was sealed."""
    engine = AuditEntry._meta.db
    if engine_name(engine) != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids are taken in commit order")
    slow_started, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        async with write_transaction(engine):
            await record(SELLER, "order.pay", "order", "SLOW")
            slow_started.set()
            await finish.wait()

    task = asyncio.create_task(slow())
    await slow_started.wait()
    await record(SELLER, "order.pay", "order", "FAST")
    assert await chain.seal() == 1
    finish.set()
    await task
    assert await chain.seal() == 1
    rows = await AuditEntry.select(AuditEntry.id, AuditEntry.object_id, AuditEntry.chain_seq).order_by(AuditEntry.id)
    assert [(r["object_id"], r["chain_seq"]) for r in rows] == [("SLOW", 2), ("FAST", 1)]
    assert (await chain.verify()).ok


async def test_the_service_seals_new_entries_by_itself(monkeypatch):
    import dataclasses

    from web import jobs

    monkeypatch.setattr(
        jobs, "JOBS", [dataclasses.replace(job, interval=0.05) for job in jobs.JOBS if job.run is chain.seal]
    )
    await jobs.start()
    try:
        await write(3)
        for _ in range(100):
            if (await chain.verify()).checked == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await jobs.stop()
    verdict = await chain.verify()
    assert verdict.ok and verdict.checked == 3 and verdict.unsealed == 0
