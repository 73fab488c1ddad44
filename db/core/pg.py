"""PostgreSQL hot paths (R1.3): one connection of the engine's pool, used directly without the ORM.

The redeem and on-sale hot paths run a few hand-written statements per request. Sending them through
asyncpg directly (prepared and cached per connection) instead of building Piccolo queries saves most of
their CPU. Statements are written with Piccolo's `{}` placeholders, so the same text also runs through
`Table.raw` where there is no pool (SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table


@cache
def numbered(sql: str) -> str:
    """Piccolo's `{}` placeholders as PostgreSQL's $1, $2, ..."""
    parts = sql.split("{}")
    return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))


@asynccontextmanager
async def pooled_connection(table: type[Table]) -> AsyncIterator[Any | None]:
    """An asyncpg connection of the pool of `table`'s engine, or None (SQLite, or no pool started)."""
    engine = table._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        async with engine.pool.acquire() as conn:
            yield conn
    else:
        yield None


def fast_path_ready(table: type[Table]) -> bool:
    """True on PostgreSQL with the pool open and no transaction open in this context: a hot path's own pooled
    connection would not roll back with the caller's transaction."""
    engine = table._meta.db
    return isinstance(engine, PostgresEngine) and engine.pool is not None and engine.current_transaction.get() is None


async def fetch(conn, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(numbered(sql), *args)]
