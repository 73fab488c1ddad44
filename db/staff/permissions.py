"""Roles and their permissions (R2.2): the one place that says who may do what.

Every handler names one Permission in its guard; a role is a set of permissions."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # 票务主管
    SELLER = "seller"  # 售票员
    AUDITOR = "auditor"  # 票务审核员
    ADMIN = "admin"  # 系统管理员
    GATE = "gate"  # 检票员


class Permission(StrEnum):
    # every signed-in staff member
    HOME = "home"
    # catalog (R3.1, R3.2)
    CATALOG_VIEW = "catalog.view"
    CATALOG_EDIT = "catalog.edit"
    PRICE_EDIT = "price.edit"
    # sales (R3.3-R3.6)
    SALES_INQUIRE = "sales.inquire"
    SALES_SELL = "sales.sell"
    SALES_AUDIT = "sales.audit"
    SALES_REFUND = "sales.refund"
    POLICY_EDIT = "policy.edit"
    # after-sale (issue 11: R5, R6.1, R9.3)
    AFTERSALE_POLICY_EDIT = "aftersale.policy"
    REFUND_APPROVE = "aftersale.approve"
    SESSION_CHANGE = "session.change"  # change a sold session's time or venue, once, with a reason (R6.1)
    SESSION_BULK = "session.bulk"  # propose a session's cancellation or postponement in bulk (R9.3)
    SESSION_BULK_APPROVE = "session.bulk_approve"  # the second person who approves it (never the proposer)
    # gate (R9.2 and the gate issue)
    GATE_SCAN = "gate.scan"
    GATE_MONITOR = "gate.monitor"
    # oversight
    AUDIT_LOG_VIEW = "auditlog.view"
    STAFF_MANAGE = "staff.manage"
    STAFF_UNLOCK = "staff.unlock"  # clear an account's sign-in limits (issue 9)
    CUSTOMER_DATA_VIEW = "customer.view"
    # data protection (R6.3, issue 14)
    AUDIT_CHAIN_VERIFY = "auditchain.verify"
    BACKUP_MANAGE = "backup.manage"
    CUSTOMER_DATA_REVEAL = "customer.reveal"  # show a masked phone / e-mail in full, with a purpose
    DATA_USE_REQUEST = "datause.request"  # ask to use customer data outside routine work
    PRIVACY_OVERSEE = "privacy.oversee"  # read the reveal log, approve data-use requests (supervisor)
    # reports and risk alerts (issue 12: R6.2, R8.4)
    REPORTS_VIEW = "reports.view"  # sales, inventory, attendance and customer counts; their exports
    REPORTS_CUSTOMERS = "reports.customers"  # reports that list buyers (customer data, exports audited)
    REPORTS_SCHEDULE = "reports.schedule"  # e-mail a report every day or week
    RISK_ALERTS = "risk.alerts"  # see and acknowledge risk alerts, set the rules' thresholds
    # inventory: allocations, monitor, alerts, replenishment (issue 13 part A: R4.2-R4.4)
    INVENTORY_MONITOR = "inventory.monitor"  # the live stock monitor and its alerts (acknowledge them)
    INVENTORY_MANAGE = "inventory.manage"  # allocations, alert rules, asking to move stock
    INVENTORY_APPROVE = "inventory.approve"  # approve stock moves and replenishment (never one's own)
    INVENTORY_REQUEST = "inventory.request"  # ask for replenishment (sellers at the window)
    # finance (R8, issue 12)
    FINANCE_SHIFT = "finance.shift"  # open and blind-count one's own shift at a window (seller)
    FINANCE_SIGNOFF = "finance.signoff"  # see every shift, sign off a variance, set the tolerance (supervisor)
    FINANCE_RECONCILE = "finance.reconcile"  # the daily three-way match and its exception queue (auditor)
    FINANCE_SETTLE = "finance.settle"  # partner agreements and statements (auditor)
    FINANCE_BUDGET = "finance.budget"  # budgets and recorded costs (auditor, supervisor)
    # inventory (issue 13: R4.1, R4.3, R4.5, real-name sessions)
    INVENTORY_PAPER = "inventory.paper"  # receive, issue, return, void and lose paper ticket stock; count it
    PAPER_PRINT = "inventory.paper.print"  # print paid tickets on the window's paper stock, record a misprint
    STOCKTAKE_SIGN = "inventory.stocktake.sign"  # sign off a stock-take and its explained variances
    PROMOTION_EDIT = "inventory.promotion"  # discount rules and bundles for slow sellers
    REALNAME_EDIT = "inventory.realname"  # mark a session real-name; read its compliance figures


_ALL = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPERVISOR: _ALL - {Permission.STAFF_MANAGE},
    Role.SELLER: frozenset(
        {
            Permission.HOME,
            Permission.CATALOG_VIEW,
            Permission.SALES_INQUIRE,
            Permission.SALES_SELL,
            Permission.SALES_REFUND,
            Permission.CUSTOMER_DATA_VIEW,
            Permission.CUSTOMER_DATA_REVEAL,
            Permission.DATA_USE_REQUEST,
            Permission.INVENTORY_REQUEST,
            Permission.FINANCE_SHIFT,
            Permission.PAPER_PRINT,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Permission.HOME,
            Permission.CATALOG_VIEW,
            Permission.SALES_INQUIRE,
            Permission.SALES_AUDIT,
            Permission.REPORTS_VIEW,
            Permission.AUDIT_LOG_VIEW,
            Permission.AUDIT_CHAIN_VERIFY,
            Permission.CUSTOMER_DATA_VIEW,
            Permission.CUSTOMER_DATA_REVEAL,
            Permission.DATA_USE_REQUEST,
            Permission.SESSION_BULK_APPROVE,
            Permission.FINANCE_RECONCILE,
            Permission.FINANCE_SETTLE,
            Permission.FINANCE_BUDGET,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.HOME,
            Permission.CATALOG_VIEW,
            Permission.CATALOG_EDIT,
            Permission.STAFF_MANAGE,
            Permission.STAFF_UNLOCK,
            Permission.AUDIT_LOG_VIEW,
            Permission.AUDIT_CHAIN_VERIFY,
            Permission.BACKUP_MANAGE,
        }
    ),
    Role.GATE: frozenset({Permission.HOME, Permission.GATE_SCAN}),
}


def permissions_of(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def role_allows(role: str, permission: Permission) -> bool:
    return permission in permissions_of(role)
