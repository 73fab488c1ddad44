"""Keys Piccolo's Unique() cannot create on SQLite (issue 13): one ticket per ID number and session, one row
per serial of a paper stock category, a serial counted once per stock-take; and the index a window's next
unused serial is found by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inventory composite keys"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS inventory_holder_one_per_id ON inventory_ticket_holder (session, id_key)",
    "CREATE UNIQUE INDEX IF NOT EXISTS inventory_paper_serial_key ON inventory_paper_serial (category, serial)",
    'CREATE INDEX IF NOT EXISTS inventory_paper_serial_next ON inventory_paper_serial (category, "window", state, serial)',
    "CREATE UNIQUE INDEX IF NOT EXISTS inventory_counted_once "
    "ON inventory_counted_serial (stock_count, category, serial)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run():
        from db.inventory.tables import TicketHolder

        for statement in STATEMENTS:
            await TicketHolder.raw(statement).run()

    manager.add_raw(run)
    return manager
