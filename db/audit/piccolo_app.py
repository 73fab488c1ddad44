import os

from piccolo.conf.apps import AppConfig

from db.audit.tables import AuditEntry, AuditSeal

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[AuditEntry, AuditSeal],
    migration_dependencies=[],
    commands=[],
)
