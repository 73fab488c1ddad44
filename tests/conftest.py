"""Test set-up: a fresh database per run, on SQLite (default) or PostgreSQL (TEST_DATABASE=postgres).

The environment is fixed here, before any project module creates its engine. Each test starts with
empty tables; fixtures build what a test needs through the real operations."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator

import pytest

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_tmp = tempfile.mkdtemp(prefix="tc-test-")
os.environ["TC_SECRET_KEY"] = secrets.token_urlsafe(32)
os.environ["AUDIT_CHAIN_KEY"] = secrets.token_urlsafe(32)
os.environ["BACKUP_DIR"] = os.path.join(_tmp, "backups")
os.environ["TICKET_SIGNING_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
# E-mail goes to a port known to be closed unless a test starts its own SMTP server (tests/smtp.py): a
# socket bound for the whole run and never listening refuses every connection, whatever else runs here
# (an SMTP sink on localhost:1025 made a test fail in CI, issue 9).
_closed_port = socket.socket()
_closed_port.bind(("127.0.0.1", 0))
os.environ["SMTP_HOST"] = "127.0.0.1"
os.environ["SMTP_PORT"] = str(_closed_port.getsockname()[1])
# Likewise the sandbox payment provider's refund API (a real HTTP call, R5.3): unreachable unless a test serves
# the app (tests/browser/conftest.py live_server) and points SANDBOX_PROVIDER_URL at it.
os.environ["SANDBOX_PROVIDER_URL"] = f"http://127.0.0.1:{_closed_port.getsockname()[1]}"
_pg_database: str | None = None


def _create_postgres_database() -> str:
    import asyncpg

    name = f"tc_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return name


if TEST_DATABASE == "postgres":
    try:
        _pg_database = _create_postgres_database()
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is required in CI and not reachable: {exc}") from exc
        _pg_skip_reason = (
            f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({exc}); "
            "skipping the PostgreSQL run (allowed outside CI only)"
        )
    else:
        os.environ["DATABASE_URL"] = re.sub(r"/[^/]*$", f"/{_pg_database}", POSTGRES_ADMIN_URL)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/test.sqlite3"


def pytest_collection_modifyitems(config, items):
    if TEST_DATABASE == "postgres" and _pg_database is None:
        marker = pytest.mark.skip(reason=_pg_skip_reason)
        for item in items:
            item.add_marker(marker)


def pytest_report_header(config):
    return f"database: {TEST_DATABASE} ({os.environ.get('DATABASE_URL', 'unavailable')})"


def pytest_sessionfinish(session, exitstatus):
    _closed_port.close()
    if _pg_database is None:
        return
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_pg_database}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
async def migrated() -> AsyncIterator[None]:
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    from db.migrate import migrate

    await migrate()
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=20)
        yield
        await engine.close_connection_pool()
    else:
        yield


def _all_tables():
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


@pytest.fixture(autouse=True)
async def clean_database(migrated) -> AsyncIterator[None]:
    """Every test starts from empty tables (schema and migrations stay)."""
    from db.core.engine import engine_name
    from db.staff.tables import StaffUser

    tables = _all_tables()
    engine = StaffUser._meta.db
    if engine_name(engine) == "postgresql":
        names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        from piccolo.table import sort_table_classes

        async with engine.transaction():
            for table in reversed(sort_table_classes(tables)):
                await table.delete(force=True)
    yield
