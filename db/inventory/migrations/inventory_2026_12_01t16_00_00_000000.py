"""The live monitor's wake-ups on PostgreSQL (issue 13, R4.2): NOTIFY `stock_change` with the session's id when
an order of the session changes status (every path, the on-sale fast path included, writes a sales_order_event
row), when an allocation is made or resized, and when an alert is raised or acknowledged. The notification is
sent at commit, once per session and transaction; db/inventory/live.py listens. Nothing on SQLite (its
watchers poll)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inventory live monitor notifications"

STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION inventory_stock_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'sales_order_event' THEN
            PERFORM pg_notify('stock_change', (SELECT session FROM sales_order WHERE id = NEW."order")::text);
        ELSE
            PERFORM pg_notify('stock_change', NEW.session::text);
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS inventory_stock_notify ON sales_order_event",
    "CREATE TRIGGER inventory_stock_notify AFTER INSERT ON sales_order_event "
    "FOR EACH ROW EXECUTE FUNCTION inventory_stock_notify()",
    "DROP TRIGGER IF EXISTS inventory_stock_notify ON stock_allocation",
    "CREATE TRIGGER inventory_stock_notify AFTER INSERT OR UPDATE OF quantity ON stock_allocation "
    "FOR EACH ROW EXECUTE FUNCTION inventory_stock_notify()",
    "DROP TRIGGER IF EXISTS inventory_stock_notify ON stock_alert",
    "CREATE TRIGGER inventory_stock_notify AFTER INSERT OR UPDATE ON stock_alert "
    "FOR EACH ROW EXECUTE FUNCTION inventory_stock_notify()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def run():
        from db.core.engine import is_postgres
        from db.inventory.tables import Alert

        if not is_postgres(Alert._meta.db):
            return
        for statement in STATEMENTS:
            await Alert.raw(statement).run()

    manager.add_raw(run)
    return manager
