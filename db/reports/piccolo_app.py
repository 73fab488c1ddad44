"""Reports (R6.2) and risk alerts (R8.4): export jobs, schedules, rules and alerts."""

import os

from piccolo.conf.apps import AppConfig

from db.reports.tables import ExportJob, ReportSchedule, RiskAlert, RiskRule, SalesFact, SalesWatermark

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[ExportJob, ReportSchedule, RiskRule, RiskAlert, SalesFact, SalesWatermark],
    migration_dependencies=["db.staff.piccolo_app"],
    commands=[],
)
