"""Keys Piccolo's Unique() cannot create on SQLite: one order per (partner, Idempotency-Key), and an index
for the sweep that releases expired holds."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T20:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partner idempotency key and hold-expiry index"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS sales_order_idempotency_key ON sales_order (partner, idempotency_key)",
    "CREATE INDEX IF NOT EXISTS sales_order_expiry ON sales_order (status, expires_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.sales.tables import Order

        for statement in STATEMENTS:
            await Order.raw(statement).run()

    manager.add_raw(run)
    return manager
