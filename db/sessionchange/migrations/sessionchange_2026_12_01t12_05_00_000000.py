"""A session change lists each order once: the unique key (change, order) that Piccolo's Unique() cannot
create on SQLite; the job's claim of an order is a conditional UPDATE of that one row."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one row per (change, order)"

STATEMENTS = [
    'CREATE UNIQUE INDEX IF NOT EXISTS session_change_order_once ON session_change_order (change, "order")',
    "CREATE INDEX IF NOT EXISTS session_change_order_work ON session_change_order (change, status, id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessionchange", description=DESCRIPTION)

    async def run():
        from db.sessionchange.tables import ChangeOrder

        for statement in STATEMENTS:
            await ChangeOrder.raw(statement).run()

    manager.add_raw(run)
    return manager
