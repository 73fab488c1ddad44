"""Piccolo configuration: one database for the web app and the scanner, chosen by DATABASE_URL."""

from piccolo.conf.apps import AppRegistry

from db.core.engine import database_url, engine_from_url

DB = engine_from_url(database_url())

APP_REGISTRY = AppRegistry(
    apps=[
        "db.core.piccolo_app",
        "db.staff.piccolo_app",
        "db.audit.piccolo_app",
        "db.catalog.piccolo_app",
        "db.sales.piccolo_app",
        "db.gate.piccolo_app",
        "db.ops.piccolo_app",
        "db.finance.piccolo_app",
        "db.privacy.piccolo_app",
        "db.sessionchange.piccolo_app",
        "db.reports.piccolo_app",
        "db.inventory.piccolo_app",
    ]
)
