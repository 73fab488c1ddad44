import os

from piccolo.conf.apps import AppConfig

from db.privacy.tables import DataUseDownload, DataUseRequest, RetentionPolicy, Reveal

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Reveal, DataUseRequest, DataUseDownload, RetentionPolicy],
    migration_dependencies=[],
    commands=[],
)
