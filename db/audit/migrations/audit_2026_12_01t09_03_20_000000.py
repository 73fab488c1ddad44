"""Indexes of the audit hash chain (issue 14): one entry per place (unique, so two sealers cannot fork the
chain; entries not sealed yet have none) and the entries that wait for the sealer."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T09:03:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain indexes"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_entry_chain_seq ON audit_entry (chain_seq)",
    "CREATE INDEX IF NOT EXISTS audit_entry_unsealed ON audit_entry (id) WHERE chain_seq IS NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run():
        from db.audit.tables import AuditEntry

        for statement in STATEMENTS:
            await AuditEntry.raw(statement).run()

    manager.add_raw(run)
    return manager
