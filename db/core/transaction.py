"""One place that opens a write transaction the right way for each engine.

SQLite must take the write lock at BEGIN (IMMEDIATE): a deferred transaction that reads and then writes
fails with "database is locked" under concurrency. PostgreSQL uses its default READ COMMITTED; operations
that must not oversell use conditional UPDATE ... RETURNING, which is safe on both engines."""

from __future__ import annotations

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


def write_transaction(engine: Engine):
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def enable_wal() -> None:
    """SQLite: write-ahead logging lets readers run while one writer writes (persists in the file)."""
    from piccolo.engine.finder import engine_finder

    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
