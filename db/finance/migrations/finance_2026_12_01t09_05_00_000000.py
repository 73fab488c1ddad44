"""Ledger entries are immutable (issue 11): an UPDATE of finance_ledger is refused by the database itself."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger entries cannot be updated"

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS finance_ledger_immutable BEFORE UPDATE ON finance_ledger "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION finance_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'ledger entries are immutable'; END $$",
    "DROP TRIGGER IF EXISTS finance_ledger_immutable ON finance_ledger",
    "CREATE TRIGGER finance_ledger_immutable BEFORE UPDATE ON finance_ledger "
    "FOR EACH ROW EXECUTE FUNCTION finance_ledger_immutable()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="finance", description=DESCRIPTION)

    async def run():
        from db.core.engine import engine_name
        from db.finance.tables import LedgerEntry

        statements = POSTGRES if engine_name(LedgerEntry._meta.db) == "postgresql" else SQLITE
        for statement in statements:
            await LedgerEntry.raw(statement).run()

    manager.add_raw(run)
    return manager
