"""One place that opens a write transaction the right way for each engine, and the one SQLite writer queue.

SQLite must take the write lock at BEGIN (IMMEDIATE): a deferred transaction that reads and then writes
fails with "database is locked" under concurrency. PostgreSQL uses its default READ COMMITTED; operations
that must not oversell use conditional UPDATE ... RETURNING, which is safe on both engines.

SQLite allows one writer at a time; writers that find the lock taken poll with growing sleeps, which under
an on-sale rush leaves some requests waiting for many seconds. Within a process the busy writers (the sales
operations) therefore queue on an asyncio lock first (`queued_write`: FIFO, no polling); across processes
SQLite's own lock still decides. A call inside an open transaction joins it without queueing again."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


def write_transaction(engine: Engine):
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _queue() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _queues:
        _queues[loop] = asyncio.Lock()
    return _queues[loop]


@contextlib.asynccontextmanager
async def queued_write(engine: Engine) -> AsyncIterator[None]:
    """write_transaction(engine), on SQLite after the writers of this process queued before it."""
    if not isinstance(engine, SQLiteEngine) or engine.current_transaction.get() is not None:
        async with write_transaction(engine):
            yield
        return
    async with _queue(), write_transaction(engine):
        yield


async def enable_wal() -> None:
    """SQLite: write-ahead logging lets readers run while one writer writes (persists in the file)."""
    from piccolo.engine.finder import engine_finder

    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
