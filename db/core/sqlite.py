"""SQLite, the embedded default engine, with its connections kept for reuse.

Piccolo's SQLiteEngine opens a new connection, and with it a new thread (aiosqlite), for every query run
outside a transaction and for every transaction: 1.2 ms of CPU for a one-row SELECT on this machine. This
engine keeps up to IDLE_CONNECTIONS idle connections per event loop and lends one to each query or
transaction, which has it to itself until it is done. Connections run in autocommit mode (Piccolo's
isolation_level=None), so a kept connection holds no read snapshot or lock between uses.

A connection is closed instead of kept when its user did not finish with it (cancelled mid-statement: the
statement may still be running, a BEGIN may still take the lock), when it is left inside a transaction (a
failed COMMIT), when its worker thread is gone, or when the database path names another file than the one
it opened (a share re-mounted, a directory switched). Closing is queued behind what the connection is still
running and not awaited, so a cancelled caller does not wait for it; closing rolls back. Restoring a backup
over the live file needs the app stopped (as with any SQLite in WAL mode, open connections keep the old
write-ahead log). Worker threads are daemon threads, so a process never hangs at exit on a connection that
was not closed; `close_connections` closes them properly (web shutdown, the command-line tools)."""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

IDLE_CONNECTIONS = 32


class KeptConnectionsSQLiteEngine(SQLiteEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # aiosqlite answers on the loop that asked; a connection kept for a loop that has since closed would hang.
        self._idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[aiosqlite.Connection]] = (
            weakref.WeakKeyDictionary()
        )

    def _idle_here(self) -> list[aiosqlite.Connection]:
        loop = asyncio.get_running_loop()
        idle = self._idle.get(loop)
        if idle is None:  # a new loop: close what loops that ended without close_connections kept
            for ended in [other for other in self._idle if other.is_closed()]:
                for connection in self._idle.pop(ended):
                    connection.stop()
            idle = self._idle[loop] = []
        return idle

    def _current_file(self) -> tuple[int, int] | None:
        """(device, inode) of the file the path names now."""
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    async def borrow(self) -> aiosqlite.Connection:
        current, idle = self._current_file(), self._idle_here()
        while idle:
            connection = idle.pop()
            if connection.opened_file == current and connection._thread.is_alive():
                return connection
            connection.stop()
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True  # not started yet: started by the await below
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        connection.opened_file = self._current_file()  # the file may have been created by this connection
        return connection

    def give_back(self, connection: aiosqlite.Connection, finished: bool) -> None:
        """`finished`: its user's last call on it completed (with or without an error)."""
        idle = self._idle_here()
        if (
            finished
            and not connection.in_transaction
            and connection.opened_file == self._current_file()
            and len(idle) < IDLE_CONNECTIONS
        ):
            idle.append(connection)
        else:
            connection.stop()

    async def close_connections(self) -> None:
        idle = self._idle.pop(asyncio.get_running_loop(), [])
        for connection in idle:
            await connection.close()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None
    ):
        connection = await self.borrow()
        finished = False
        try:
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
            finished = True
            return rows
        except Exception:
            finished = True  # the statement ran and failed; the connection is fine
            raise
        finally:
            self.give_back(connection, finished)

    async def _run_in_existing_connection(
        self, connection, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None
    ):
        """A statement inside a transaction. Piccolo's own first sends PRAGMA foreign_keys = 1 before every statement:
        a round trip to the connection's thread each time (12 of the 30 statements of a partner sale), and a no-op,
        as SQLite ignores that pragma inside a transaction; a kept connection has it from borrow()."""
        connection.row_factory = dict_factory
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
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
        except BaseException as exc:
            self.engine.give_back(self.connection, finished=isinstance(exc, Exception))
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        # Cancelled (or interrupted) inside the transaction: a statement may still be running; closing the
        # connection rolls back without making the cancelled caller wait.
        finished = exception is None or isinstance(exception, Exception)
        try:
            if exception is not None and finished and not self._rolled_back:
                await self.rollback()
            elif exception is None and not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            self.engine.give_back(self.connection, finished)
            self.connection = None  # a task that outlives the transaction must not use a connection lent to another
        return exception is None
