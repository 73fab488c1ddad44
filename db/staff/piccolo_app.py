import os

from piccolo.conf.apps import AppConfig

from db.staff.tables import LoginThrottle, StaffSession, StaffUser

APP_CONFIG = AppConfig(
    app_name="staff",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[StaffUser, StaffSession, LoginThrottle],
    migration_dependencies=[],
    commands=[],
)
