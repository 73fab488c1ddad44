"""The after-sale area (issue 11; R5, R1.1, R10.1): refunds at the window, refund approvals and the manual
queue, and the refund and exchange rules. Domain logic lives in db.sales.aftersale; handlers stay thin."""

from db.staff.permissions import Permission
from web.aftersale import approvals, exchange, policy, window

ROUTES = [*window.ROUTES, *exchange.ROUTES, *approvals.ROUTES, *policy.ROUTES]

NAV = [
    (Permission.SALES_REFUND, "/aftersale/refunds", "Refunds"),
    (Permission.REFUND_APPROVE, "/aftersale/approvals", "Refund approvals"),
    (Permission.AFTERSALE_POLICY_EDIT, "/aftersale/policy", "Refund rules"),
]
