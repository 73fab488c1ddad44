"""Finance (R8): the money ledger."""

import os

from piccolo.conf.apps import AppConfig

from db.finance.tables import LedgerEntry

APP_CONFIG = AppConfig(
    app_name="finance",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[LedgerEntry],
    migration_dependencies=["db.sales.piccolo_app"],
    commands=[],
)
