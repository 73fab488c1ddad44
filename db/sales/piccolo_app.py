import os

from piccolo.conf.apps import AppConfig

from db.sales.tables import Order, Ticket

APP_CONFIG = AppConfig(
    app_name="sales",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Order, Ticket],
    migration_dependencies=["db.catalog.piccolo_app", "db.staff.piccolo_app"],
    commands=[],
)
