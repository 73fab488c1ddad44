"""Finance (R8): the money ledger, shifts, reconciliation, partner settlement, budgets."""

import os

from piccolo.conf.apps import AppConfig

from db.finance.tables import (
    Agreement,
    Budget,
    Cost,
    FinancePolicy,
    LedgerEntry,
    ProviderBook,
    ReconDay,
    ReconException,
    Shift,
    Statement,
    StatementLine,
    Window,
)

APP_CONFIG = AppConfig(
    app_name="finance",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        LedgerEntry,
        Window,
        Shift,
        FinancePolicy,
        ProviderBook,
        ReconDay,
        ReconException,
        Agreement,
        Statement,
        StatementLine,
        Budget,
        Cost,
    ],
    migration_dependencies=["db.sales.piccolo_app", "db.staff.piccolo_app"],
    commands=[],
)
