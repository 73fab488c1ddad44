"""The sales summary's key is unique (one row per day, session, channel, outlet, seller, method), so that a
refresh adds to the row with ON CONFLICT; and the ledger is read in id order from the watermark."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T13:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales summary key"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS reports_sales_fact_key ON reports_sales_fact "
    "(day, session, channel, outlet, seller, method)",
    "CREATE INDEX IF NOT EXISTS reports_sales_fact_day ON reports_sales_fact (day)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)

    async def run():
        from db.reports.tables import SalesFact

        for statement in STATEMENTS:
            await SalesFact.raw(statement).run()

    manager.add_raw(run)
    return manager
