import os

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="gate",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[],
    migration_dependencies=["db.sales.piccolo_app", "db.catalog.piccolo_app"],
    commands=[],
)
