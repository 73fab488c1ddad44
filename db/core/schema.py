"""What Piccolo's migrations do differently per engine, in one place."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder


class WideningMigrationManager(MigrationManager):
    """A migration whose column changes only widen Integer to BigInt: PostgreSQL alters the types; SQLite has
    no ALTER COLUMN and needs none (both are its 64-bit INTEGER), so there the changes are recorded only. The
    changes stay in the migration either way, so later auto-migrations see the columns as BigInt."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        if engine_finder().engine_type == "sqlite":
            return
        await super()._run_alter_columns(backwards=backwards)
