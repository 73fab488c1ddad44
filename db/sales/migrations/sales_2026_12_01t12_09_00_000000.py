"""Exchanges (issue 11, R5.4): one exchange per (partner, Idempotency-Key)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "exchange idempotency key"

INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS aftersale_exchange_idempotency ON aftersale_exchange (partner, idempotency_key)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.sales.tables import Order

        await Order.raw(INDEX).run()

    manager.add_raw(run)
    return manager
