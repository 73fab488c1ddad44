"""Apply Piccolo migrations and report whether the database is current (`python -m db.migrate`)."""

from __future__ import annotations

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards

from db.core.engine import database_url, run_tool
from db.core.transaction import enable_wal


async def migrate() -> None:
    await enable_wal()
    response = await run_forwards(app_name="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")


async def pending_migrations() -> int:
    return await CheckMigrationManager(app_name="all").havent_ran_count()


def main() -> None:
    run_tool(migrate())
    print(f"migrated {database_url().split('@')[-1]}")


if __name__ == "__main__":
    main()
