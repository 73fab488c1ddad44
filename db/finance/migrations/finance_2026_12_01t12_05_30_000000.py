"""Issue 12 keys the ORM cannot declare on SQLite: one shift not closed per window and per seller (partial
unique indexes, the same syntax on both engines), and one budget amount per year, month and category."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:05:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "finance keys: one open shift per window and per seller; one budget line per month and category; partner entries by time"

STATEMENTS = [
    'CREATE UNIQUE INDEX IF NOT EXISTS finance_shift_one_per_window ON finance_shift ("window") '
    "WHERE status <> 'closed'",
    "CREATE UNIQUE INDEX IF NOT EXISTS finance_shift_one_per_seller ON finance_shift (seller) WHERE status <> 'closed'",
    "CREATE UNIQUE INDEX IF NOT EXISTS finance_budget_line ON finance_budget (year, month, category)",
    "CREATE UNIQUE INDEX IF NOT EXISTS finance_recon_exception_key "
    "ON finance_recon_exception (day, source, kind, reference)",
    # a partner's statement reads its entries of a period (db/finance/settlement.py)
    'CREATE INDEX IF NOT EXISTS finance_ledger_partner_at ON finance_ledger (partner, at, "order")',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="finance", description=DESCRIPTION)

    async def run():
        from db.finance.tables import Shift

        for statement in STATEMENTS:
            await Shift.raw(statement).run()

    manager.add_raw(run)
    return manager
