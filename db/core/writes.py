"""The write transaction of every sales operation.

PostgreSQL: db.core.transaction.write_transaction as is. SQLite allows one writer at a time; writers that
find the lock taken poll with growing sleeps, which under an on-sale rush leaves some requests waiting
for many seconds. Within a process the sales writers therefore queue on an asyncio lock first (FIFO,
no polling); across processes SQLite's own lock still decides. A call inside an open transaction
joins it without queueing again."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from piccolo.engine.sqlite import SQLiteEngine

from db.core.transaction import write_transaction
from db.sales.tables import Order

_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _queue() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _queues:
        _queues[loop] = asyncio.Lock()
    return _queues[loop]


@contextlib.asynccontextmanager
async def sales_write() -> AsyncIterator[None]:
    engine = Order._meta.db
    if not isinstance(engine, SQLiteEngine) or engine.current_transaction.get() is not None:
        async with write_transaction(engine):
            yield
        return
    async with _queue(), write_transaction(engine):
        yield
