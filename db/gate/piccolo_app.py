import os

from piccolo.conf.apps import AppConfig

from db.gate.tables import Admission, GateConflict, GateDevice, Scan

APP_CONFIG = AppConfig(
    app_name="gate",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[GateDevice, Admission, Scan, GateConflict],
    migration_dependencies=["db.sales.piccolo_app", "db.catalog.piccolo_app", "db.staff.piccolo_app"],
    commands=[],
)
