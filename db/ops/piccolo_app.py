import os

from piccolo.conf.apps import AppConfig

from db.ops.tables import Backup, Job

APP_CONFIG = AppConfig(
    app_name="ops",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Backup, Job],
    migration_dependencies=[],
    commands=[],
)
