"""Short ticket numbers (issue 15): ticket.short_code unique, and a number for every ticket issued before
(db/sales/tickets/short_numbers.py; a keyed permutation of the id, so the numbers are distinct by
construction)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket.short_code unique; filled in for earlier tickets"

INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS ticket_short_code ON ticket (short_code)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.sales.tables import Ticket
        from db.sales.tickets.short_numbers import fill_missing

        await Ticket.raw(INDEX).run()
        await fill_missing()

    manager.add_raw(run)
    return manager
