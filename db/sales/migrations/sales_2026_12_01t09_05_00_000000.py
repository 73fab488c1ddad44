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

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS aftersale_refund_idempotency ON aftersale_refund (partner, idempotency_key)",
    "INSERT INTO aftersale_policy (event_kind, event, rules, reason, created_by, created_by_name, created_at) "
    "SELECT '', NULL, '" + FIRST_RULES + "', 'The rules in force before policy versions (issue 11)', NULL, 'system', "
    "CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM aftersale_policy)",
    "UPDATE ticket SET policy_version = (SELECT MIN(id) FROM aftersale_policy) WHERE policy_version IS NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.sales.tables import Order

        for statement in STATEMENTS:
            await Order.raw(statement).run()

    manager.add_raw(run)
    return manager
