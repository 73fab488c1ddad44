"""The sales area (R3.3-R3.6, R6.2, R6.3): the box office from inquiry to delivered tickets, the audit
queue, the order search and the sales policy. Domain logic lives in db.sales; handlers stay thin."""

from db.staff.permissions import Permission
from web.sales import auditing, inquiry, ordering, orders, policy

ROUTES = [*inquiry.ROUTES, *ordering.ROUTES, *orders.ROUTES, *auditing.ROUTES, *policy.ROUTES]

NAV = [
    (Permission.SALES_INQUIRE, "/sales/sessions", "Box office"),
    (Permission.SALES_INQUIRE, "/sales/orders", "Orders"),
    (Permission.SALES_AUDIT, "/sales/audit", "Audit queue"),
    (Permission.POLICY_EDIT, "/sales/policy", "Sales policy"),
]
