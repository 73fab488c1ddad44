"""Reports and risk alerts (issue 12 part A; R6.2, R8.4): the report pages and their exports, scheduled
reports, and the risk alerts. Queries live in db.reports; handlers stay thin."""

from db.staff.permissions import Permission
from web.reports import alerts, exports, pages, schedules

ROUTES = [*pages.ROUTES, *exports.ROUTES, *schedules.ROUTES, *alerts.ROUTES]

NAV = [
    (Permission.REPORTS_VIEW, "/reports", "Reports"),
]
