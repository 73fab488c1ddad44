"""Inventory (R4): channel allocations and their ledger, moves, alert rules and alerts, replenishment."""

import os

from piccolo.conf.apps import AppConfig

from db.inventory.tables import (
    Alert,
    AlertRule,
    Allocation,
    AllocationEntry,
    AllocationMove,
    Replenishment,
    SupplyCost,
)

APP_CONFIG = AppConfig(
    app_name="inventory",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Allocation, AllocationEntry, AllocationMove, AlertRule, Alert, Replenishment, SupplyCost],
    migration_dependencies=["db.sales.piccolo_app", "db.catalog.piccolo_app"],
    commands=[],
)
