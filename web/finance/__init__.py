"""The finance area (issue 12, R8): shifts at the window, the daily reconciliation, partner statements and
budgets. Domain logic lives in db.finance; handlers stay thin."""

from web.finance import budgets, reconcile, shifts, statements

ROUTES = [*shifts.ROUTES, *reconcile.ROUTES, *statements.ROUTES, *budgets.ROUTES]
NAV = [*shifts.NAV, *reconcile.NAV, *statements.NAV, *budgets.NAV]
