"""Session changes (R6.1, R9.3): changes of time or venue, bulk cancellation and postponement, per order."""

import os

from piccolo.conf.apps import AppConfig

from db.sessionchange.tables import ChangeOrder, SessionChange

APP_CONFIG = AppConfig(
    app_name="sessionchange",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[SessionChange, ChangeOrder],
    migration_dependencies=["db.sales.piccolo_app"],
    commands=[],
)
