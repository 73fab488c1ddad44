"""The plumbing's tables: rate-limit attempts (db/core/throttle.py)."""

import os

from piccolo.conf.apps import AppConfig

from db.core.tables import RateAttempt

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[RateAttempt],
    migration_dependencies=[],
    commands=[],
)
