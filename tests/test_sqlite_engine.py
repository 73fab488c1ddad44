"""The embedded SQLite engine keeps its connections (db/sqlite.py): reused, never left holding a lock or a
transaction, and never writing to a file that is no longer the one at the database's path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.sqlite import KeptConnectionsSQLiteEngine
from db.transaction import write_transaction


def _make_database(path: Path, label: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO note (text) VALUES (?)", (label,))


def _notes_in_file(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT text FROM note ORDER BY id")]


@pytest.fixture
async def engine(tmp_path):
    path = tmp_path / "kept.sqlite3"
    _make_database(path, "first")
    engine = KeptConnectionsSQLiteEngine(path=str(path), timeout=1)
    yield engine
    await engine.close_connections()


async def _notes(engine: KeptConnectionsSQLiteEngine) -> list[str]:
    return [row["text"] for row in await engine.run_ddl("SELECT text FROM note ORDER BY id")]


async def test_queries_and_transactions_reuse_kept_connections(engine):
    assert await _notes(engine) == ["first"]
    kept = engine._idle[-1]
    async with write_transaction(engine):
        await engine.run_ddl("INSERT INTO note (text) VALUES ('second')")
    assert engine._idle == [kept]  # the transaction borrowed the kept connection and gave it back
    assert await _notes(engine) == ["first", "second"]


async def test_a_failed_transaction_leaves_no_lock_behind(engine):
    with pytest.raises(RuntimeError):
        async with write_transaction(engine):
            await engine.run_ddl("INSERT INTO note (text) VALUES ('lost')")
            raise RuntimeError("the operation failed half-way")
    with sqlite3.connect(engine.path, timeout=0.2) as other:  # another process can write at once
        other.execute("INSERT INTO note (text) VALUES ('other')")
    assert await _notes(engine) == ["first", "other"]
    assert all(not connection.in_transaction for connection in engine._idle)


async def test_a_database_file_replaced_at_its_path_is_the_one_used(engine, tmp_path):
    assert await _notes(engine) == ["first"]
    path = Path(engine.path)
    path.rename(tmp_path / "old.sqlite3")  # e.g. a backup restored over the database
    _make_database(path, "restored")
    assert await _notes(engine) == ["restored"]
    async with write_transaction(engine):
        await engine.run_ddl("INSERT INTO note (text) VALUES ('new sale')")
    assert _notes_in_file(path) == ["restored", "new sale"]
    assert _notes_in_file(tmp_path / "old.sqlite3") == ["first"]
