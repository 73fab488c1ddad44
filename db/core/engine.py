"""Which database the web app, the scanner and the scripts talk to (DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from db.core.sqlite import KeptConnectionsSQLiteEngine

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE = ROOT / "var" / "ticketcenter.sqlite3"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


REPORTS_NODE = "replica"


def reports_node() -> str | None:
    """The Piccolo node read-only reports run on: the standby named by DATABASE_REPLICA_URL (PostgreSQL
    only), else None (the primary). `query.run(node=reports_node())`."""
    return REPORTS_NODE if os.environ.get("DATABASE_REPLICA_URL") and database_url().startswith("postgres") else None


def engine_from_url(url: str) -> Engine:
    """Build the Piccolo engine for a `postgres://`, `postgresql://` or `sqlite:///PATH` URL."""
    if url.startswith(("postgres://", "postgresql://")):
        replica = os.environ.get("DATABASE_REPLICA_URL")
        extra = {REPORTS_NODE: PostgresEngine(config={"dsn": replica})} if replica else None
        return PostgresEngine(config={"dsn": url}, extra_nodes=extra)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: how long a writer waits for the lock before "database is locked".
        return KeptConnectionsSQLiteEngine(path=str(path), timeout=30)
    raise ValueError(
        f"DATABASE_URL must start with postgres://, postgresql:// or sqlite:///, got {url.split(':')[0]!r}"
    )


async def close_engine(engine: Engine) -> None:
    """Close what the engine keeps open, at the end of a program: PostgreSQL's pool, SQLite's kept connections."""
    if isinstance(engine, PostgresEngine):
        if engine.pool is not None:
            await engine.close_connection_pool()
    elif isinstance(engine, KeptConnectionsSQLiteEngine):
        await engine.close_connections()


def run_tool(main: Coroutine[Any, Any, None]) -> None:
    """Run a command-line tool's coroutine, then close what the engine keeps open."""

    async def run_and_close() -> None:
        try:
            await main
        finally:
            await close_engine(engine_finder())

    asyncio.run(run_and_close())


def is_postgres(engine: Engine) -> bool:
    """The one question domain code asks about the engine (the seam between the two engines): PostgreSQL, or
    the embedded SQLite."""
    return isinstance(engine, PostgresEngine)


def engine_name(engine: Engine) -> str:
    return "postgresql" if is_postgres(engine) else "sqlite"


def case_insensitive_like(column, pattern: str):
    """ILIKE on PostgreSQL; SQLite's LIKE is already case-insensitive (and Piccolo warns on ilike there)."""
    return column.ilike(pattern) if is_postgres(column._meta.table._meta.db) else column.like(pattern)


def secret(env_name: str, filename: str) -> str:
    """A secret from the environment, else from var/FILENAME, created once (mode 0600) so that every
    worker and every restart share it."""
    value = os.environ.get(env_name)
    if value:
        return value
    path = ROOT / "var" / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker made it first
    return path.read_text().strip()
