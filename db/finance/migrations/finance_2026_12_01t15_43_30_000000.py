"""Statement lines (issue 12): one line per statement and order (unique index), and the lines of the statements
made before lines were stored, written from the ledger as a new statement's are. Their totals and digest are
kept as they were made: if the ledger no longer gives them, the statement says so (re-run check)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T15:43:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "statement lines: one per statement and order; the lines of earlier statements"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="finance", description=DESCRIPTION)

    async def run():
        from db.finance import settlement
        from db.finance.tables import Statement, StatementLine

        await StatementLine.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS finance_statement_line_order ON finance_statement_line (statement, "order")'
        ).run()
        for row in await Statement.select():
            if not await StatementLine.exists().where(StatementLine.statement == row["id"]):
                agreement = await settlement.agreement_of(row)
                await settlement.insert_lines(row["id"], agreement, row["period_start"], row["period_end"])

    manager.add_raw(run)
    return manager
