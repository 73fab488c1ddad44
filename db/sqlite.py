"""SQLite, the embedded default engine, with its connections kept for reuse.

Piccolo's SQLiteEngine opens a new connection, and with it a new thread (aiosqlite), for every query run
outside a transaction and for every transaction: 1.2 ms of CPU for a one-row SELECT on this machine. This
engine keeps up to IDLE_CONNECTIONS idle connections and lends one to each query or transaction, which
has it to itself until it is done; a connection left inside a transaction (a failed COMMIT or ROLLBACK) is
closed instead of kept, and so is every kept connection once the path names another file (a backup
restored over it, a share re-mounted): a kept connection must not go on writing to a replaced file. Connections run in autocommit mode (Piccolo's isolation_level=None), so a kept
connection never holds a read snapshot or a lock between uses. Their threads are daemon threads, so a
process exits without closing them (each commit is already durable in the write-ahead log)."""

from __future__ import annotations

import os
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

IDLE_CONNECTIONS = 8


class KeptConnectionsSQLiteEngine(SQLiteEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[aiosqlite.Connection] = []

    def _current_file(self) -> tuple[int, int] | None:
        """(device, inode) of the file the path names now."""
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    async def borrow(self) -> aiosqlite.Connection:
        current = self._current_file()
        while self._idle:
            connection = self._idle.pop()
            if connection.opened_file == current:
                return connection
            await connection.close()
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True  # not started yet: started by the await below
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        connection.opened_file = self._current_file()  # the file may have been created by this connection
        return connection

    async def give_back(self, connection: aiosqlite.Connection) -> None:
        if connection.in_transaction or connection.opened_file != self._current_file() or len(self._idle) >= IDLE_CONNECTIONS:
            await connection.close()
        else:
            self._idle.append(connection)

    async def close_connections(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None):
        connection = await self.borrow()
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            await self.give_back(connection)

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True) -> SQLiteTransaction:
        return _KeptConnectionTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class _KeptConnectionTransaction(SQLiteTransaction):
    """Piccolo's transaction on a borrowed connection, given back (not closed) at the end."""

    engine: KeptConnectionsSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.engine.borrow()
        try:
            await self.begin()
        except BaseException:
            await self.engine.give_back(self.connection)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.give_back(self.connection)
        return exception is None
