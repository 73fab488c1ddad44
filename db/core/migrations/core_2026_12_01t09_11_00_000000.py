"""Indexes of the rate limits' two counts: attempts of one action by one client, and on one key, since a time."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T09:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rate attempt indexes"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS rate_attempt_client ON rate_attempt (action, client, at)",
    "CREATE INDEX IF NOT EXISTS rate_attempt_key ON rate_attempt (action, key, at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        from db.core.tables import RateAttempt

        for statement in STATEMENTS:
            await RateAttempt.raw(statement).run()

    manager.add_raw(run)
    return manager
