"""The inventory area under /inventory/ (issue 13, R4): channel allocations and stock moves, the live stock
monitor and its alerts, replenishment; real-name sessions, paper ticket stock and printing, stock-taking,
promotions and bundles. Domain logic lives in db.inventory; handlers stay thin."""

from db.staff.permissions import Permission
from web.inventory import (
    alerts,
    allocations,
    exports,
    monitor,
    paper,
    promotions,
    realname,
    replenishment,
    stocktake,
)

ROUTES = [
    *allocations.ROUTES,
    *monitor.ROUTES,
    *exports.ROUTES,
    *alerts.ROUTES,
    *replenishment.ROUTES,
    *realname.ROUTES,
    *paper.ROUTES,
    *stocktake.ROUTES,
    *promotions.ROUTES,
]

NAV = [
    (Permission.INVENTORY_MONITOR, "/inventory/monitor", "Stock monitor"),
    (Permission.INVENTORY_MANAGE, "/inventory/allocations", "Allocations"),
    (Permission.INVENTORY_REQUEST, "/inventory/replenishment", "Replenishment"),
    *realname.NAV,
    *paper.NAV,
    *stocktake.NAV,
    *promotions.NAV,
]
