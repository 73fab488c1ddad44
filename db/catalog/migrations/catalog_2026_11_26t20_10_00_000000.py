"""Composite unique keys Piccolo's Unique() cannot create on SQLite: a seat exists once per position,
and once per session in the stock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique seat positions and session seats"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS seat_position_key ON seat (venue, section, row_label, number)",
    "CREATE UNIQUE INDEX IF NOT EXISTS session_seat_key ON session_seat (session, seat)",
    "CREATE UNIQUE INDEX IF NOT EXISTS session_gate_key ON session_gate (session, gate)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def run():
        from db.catalog.tables import Seat

        for statement in STATEMENTS:
            await Seat.raw(statement).run()

    manager.add_raw(run)
    return manager
