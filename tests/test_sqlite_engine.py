"""The embedded SQLite engine keeps its connections (db/core/sqlite.py): reused, never left holding a lock or a
transaction, never lent to two users, and never writing to a file that is no longer the one at the
database's path. The databases here are in WAL mode, as the app's are."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from db.core.sqlite import KeptConnectionsSQLiteEngine
from db.core.transaction import write_transaction


def _make_database(path: Path, label: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO note (text) VALUES (?)", (label,))


def _notes_in_file(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT text FROM note ORDER BY id")]


@pytest.fixture
async def engine(tmp_path):
    path = tmp_path / "kept.sqlite3"
    _make_database(path, "first")
    engine = KeptConnectionsSQLiteEngine(path=str(path), timeout=30)
    yield engine
    await engine.close_connections()


async def _notes(engine: KeptConnectionsSQLiteEngine) -> list[str]:
    return [row["text"] for row in await engine.run_ddl("SELECT text FROM note ORDER BY id")]


def _idle(engine: KeptConnectionsSQLiteEngine) -> list:
    return engine._idle_here()


async def test_queries_and_transactions_reuse_kept_connections(engine):
    assert await _notes(engine) == ["first"]
    [kept] = _idle(engine)
    async with write_transaction(engine):
        await engine.run_ddl("INSERT INTO note (text) VALUES ('second')")
    assert _idle(engine) == [kept]  # the transaction borrowed the kept connection and gave it back
    assert await _notes(engine) == ["first", "second"]


async def test_a_failed_transaction_leaves_no_lock_behind(engine):
    with pytest.raises(RuntimeError):
        async with write_transaction(engine):
            await engine.run_ddl("INSERT INTO note (text) VALUES ('lost')")
            raise RuntimeError("the operation failed half-way")
    with sqlite3.connect(engine.path, timeout=0.2) as other:  # another process can write at once
        other.execute("INSERT INTO note (text) VALUES ('other')")
    assert await _notes(engine) == ["first", "other"]
    assert all(not connection.in_transaction for connection in _idle(engine))


async def test_a_write_cancelled_while_waiting_for_the_lock_loses_nothing_later(engine):
    await _notes(engine)
    other = sqlite3.connect(engine.path, isolation_level=None, timeout=0.5)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock, e.g. another worker

    async def write() -> None:
        async with write_transaction(engine):
            await engine.run_ddl("INSERT INTO note (text) VALUES ('gave up')")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(write(), 0.3)  # the gate client's offline timeout cancels it
    other.execute("COMMIT")
    await asyncio.sleep(0.3)
    assert all(not connection.in_transaction for connection in _idle(engine))
    other.execute("INSERT INTO note (text) VALUES ('other writer')")  # the lock is free
    other.close()
    await engine.run_ddl("INSERT INTO note (text) VALUES ('sale')")
    assert _notes_in_file(Path(engine.path)) == ["first", "other writer", "sale"]


async def test_a_task_that_outlives_its_transaction_cannot_use_a_lent_connection(engine):
    async def later() -> None:
        await asyncio.sleep(0.1)
        await engine.run_ddl("INSERT INTO note (text) VALUES ('late write')")

    async with write_transaction(engine):
        task = asyncio.create_task(later())  # inherits the transaction's context
    with pytest.raises(RuntimeError):
        async with write_transaction(engine):  # another caller's transaction, rolled back
            await asyncio.sleep(0.2)
            raise RuntimeError("rolled back")
    with pytest.raises(AttributeError):
        await task  # fails loudly instead of writing inside the other caller's transaction
    assert await _notes(engine) == ["first"]


def test_each_event_loop_gets_its_own_connections(engine):
    """aiosqlite answers on the loop that asked: a connection kept for a loop that has ended (maybe with a
    statement abandoned in it) is never lent to the next loop, and the next loop closes it."""
    lent = []

    async def query() -> list:
        rows = await engine.run_ddl("SELECT count(*) AS n FROM note")
        lent.append(_idle(engine)[-1])
        return rows

    def in_new_loop():
        result = []
        thread = threading.Thread(target=lambda: result.append(asyncio.run(query())))
        thread.start()
        thread.join(10)
        return result

    assert in_new_loop() == [[{"n": 1}]]  # the loop ends without closing its kept connection
    assert in_new_loop() == [[{"n": 1}]]
    first, second = lent
    assert first is not second
    for _ in range(50):
        if not first._thread.is_alive():
            break
        time.sleep(0.02)
    with pytest.raises(ValueError):  # closed: "no active connection"
        _ = first.in_transaction
    second.stop()


async def test_a_database_directory_switched_at_its_path_is_the_one_used(tmp_path):
    share, elsewhere, link = tmp_path / "share", tmp_path / "elsewhere", tmp_path / "db"
    _make_database(share / "tc.sqlite3", "on the share")
    _make_database(elsewhere / "tc.sqlite3", "elsewhere")
    os.symlink(share, link)
    engine = KeptConnectionsSQLiteEngine(path=str(link / "tc.sqlite3"), timeout=30)
    try:
        assert await _notes(engine) == ["on the share"]
        link.unlink()
        os.symlink(elsewhere, link)  # e.g. a share re-mounted from another server
        assert await _notes(engine) == ["elsewhere"]
        async with write_transaction(engine):
            await engine.run_ddl("INSERT INTO note (text) VALUES ('new sale')")
        assert _notes_in_file(elsewhere / "tc.sqlite3") == ["elsewhere", "new sale"]
        assert _notes_in_file(share / "tc.sqlite3") == ["on the share"]
    finally:
        await engine.close_connections()
