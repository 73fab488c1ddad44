"""A seat is in one seat block at most (issue 13): the key of stock_allocation_seat, which Piccolo's Unique()
cannot create on SQLite (made after the table's migration: a migration's raw SQL runs before its tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T15:49:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one seat block per seat"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run():
        from db.inventory.tables import AllocationSeat

        await AllocationSeat.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS stock_allocation_seat_once ON stock_allocation_seat (session, seat)"
        ).run()

    manager.add_raw(run)
    return manager
