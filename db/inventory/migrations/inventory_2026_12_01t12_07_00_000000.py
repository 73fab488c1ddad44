"""One allocation per class and target (channel, outlet, partner), made in raw SQL on both engines; the
allocation ledger and the supply costs are immutable: an UPDATE is refused by the database itself."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T12:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "allocation key; immutable allocation ledger and supply costs"

UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS stock_allocation_target "
    "ON stock_allocation (price_class, channel, outlet, COALESCE(partner, 0))"
)
IMMUTABLE = ("stock_allocation_entry", "stock_supply_cost")
SQLITE = [UNIQUE] + [
    f"CREATE TRIGGER IF NOT EXISTS {table}_immutable BEFORE UPDATE ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} entries are immutable'); END"
    for table in IMMUTABLE
]
POSTGRES = [UNIQUE]
for _table in IMMUTABLE:
    POSTGRES += [
        f"CREATE OR REPLACE FUNCTION {_table}_immutable() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_table} entries are immutable'; END $$",
        f"DROP TRIGGER IF EXISTS {_table}_immutable ON {_table}",
        f"CREATE TRIGGER {_table}_immutable BEFORE UPDATE ON {_table} FOR EACH ROW EXECUTE FUNCTION {_table}_immutable()",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run():
        from db.core.engine import engine_name
        from db.inventory.tables import Allocation

        statements = POSTGRES if engine_name(Allocation._meta.db) == "postgresql" else SQLITE
        for statement in statements:
            await Allocation.raw(statement).run()

    manager.add_raw(run)
    return manager
