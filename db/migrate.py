"""Apply Piccolo migrations and report whether the database is current (`python -m db.migrate`)."""

from __future__ import annotations

import asyncio

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.finder import engine_finder

from db.config import close_engine, database_url
from db.transaction import enable_wal


async def migrate() -> None:
    await enable_wal()
    response = await run_forwards(app_name="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")


async def pending_migrations() -> int:
    return await CheckMigrationManager(app_name="all").havent_ran_count()


async def _migrate_and_close() -> None:
    try:
        await migrate()
    finally:
        await close_engine(engine_finder())


def main() -> None:
    asyncio.run(_migrate_and_close())
    print(f"migrated {database_url().split('@')[-1]}")


if __name__ == "__main__":
    main()
