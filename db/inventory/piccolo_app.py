"""Inventory (issue 13, R4): channel allocations and their ledger, moves, alert rules and alerts,
replenishment; real-name sessions, paper ticket stock, stock-takes, promotions."""

import os

from piccolo.conf.apps import AppConfig

from db.inventory.tables import (
    Alert,
    AlertRule,
    Allocation,
    AllocationEntry,
    AllocationMove,
    AllocationSeat,
    Bundle,
    CountedSerial,
    PaperLocation,
    PaperMovement,
    PaperSerial,
    Promotion,
    RealNameSession,
    Replenishment,
    StockCount,
    SupplyCost,
    TicketHolder,
    Variance,
)

APP_CONFIG = AppConfig(
    app_name="inventory",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        Allocation,
        AllocationEntry,
        AllocationMove,
        AllocationSeat,
        AlertRule,
        Alert,
        Replenishment,
        SupplyCost,
        RealNameSession,
        TicketHolder,
        PaperLocation,
        PaperSerial,
        PaperMovement,
        StockCount,
        CountedSerial,
        Variance,
        Promotion,
        Bundle,
    ],
    migration_dependencies=["db.sales.piccolo_app", "db.catalog.piccolo_app", "db.staff.piccolo_app"],
    commands=[],
)
