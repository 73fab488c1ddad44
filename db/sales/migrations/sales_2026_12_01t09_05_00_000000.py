"""After-sale (issue 11): one refund per (partner, Idempotency-Key); the first refund and exchange policy
version, holding the rules every earlier sale was made under (the former constant of
db/sales/shop_refund_rules.py), recorded on every ticket issued before."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "refund idempotency key; first policy version on earlier tickets"

FIRST_RULES = (
    '{"refund_tiers": [{"hours_before": 48, "percent": 5, "min_fee_fen": 0, "max_fee_fen": null}, '
    '{"hours_before": 24, "percent": 20, "min_fee_fen": 0, "max_fee_fen": null}], "free_window_hours": 0, '
    '"whole_order_only": false, "exchange_allowed": true, "exchange_tiers": [{"hours_before": 48, "percent": 0, '
    '"min_fee_fen": 0, "max_fee_fen": null}, {"hours_before": 24, "percent": 10, "min_fee_fen": 0, '
    '"max_fee_fen": null}], "approval_above_fen": 200000}'
)

INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS aftersale_refund_idempotency ON aftersale_refund (partner, idempotency_key)"
FIRST_VERSION = (
    "INSERT INTO aftersale_policy (event_kind, event, rules, reason, created_by, created_by_name, created_at) "
    "SELECT '', NULL, {}JSON, 'The rules in force before policy versions (issue 11)', NULL, 'system', "
    "CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM aftersale_policy)"
)
EARLIER_TICKETS = (
    "UPDATE ticket SET policy_version = (SELECT MIN(id) FROM aftersale_policy) WHERE policy_version IS NULL"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.core.engine import engine_name
        from db.sales.tables import Order

        cast = "::json" if engine_name(Order._meta.db) == "postgresql" else ""
        await Order.raw(INDEX).run()
        await Order.raw(FIRST_VERSION.replace("JSON", cast), FIRST_RULES).run()
        await Order.raw(EARLIER_TICKETS).run()

    manager.add_raw(run)
    return manager
