"""Every code's label as people read it: one place for each (English msgids; zh_CN in the areas' catalogs,
translations/zh_CN/LC_MESSAGES/*.po). Templates get them in the request's language through
`translated_labels` (templates/sales/_labels.html) or `_()`; web/errors.py words a status in a message."""

from __future__ import annotations

from db.inventory.allocations import CHANNEL_NAMES
from db.sales import status
from db.staff.permissions import Permission, Role

# Order statuses as staff read them.
ORDER_STATUS = {
    status.HELD: "Held, awaiting payment",
    status.AWAITING_AUDIT: "Awaiting audit",
    status.REJECTED: "Rejected",
    status.AWAITING_PAYMENT: "Approved, awaiting payment",
    status.PAID: "Paid",
    status.CANCELLED: "Cancelled",
    status.EXPIRED: "Expired",
    status.REFUNDED: "Refunded",
}
# Order statuses as customers read them in the shop.
CUSTOMER_ORDER_STATUS = {
    status.HELD: "Tickets held, waiting for payment",
    status.AWAITING_AUDIT: "Waiting for our staff to check the order",
    status.AWAITING_PAYMENT: "Checked, waiting for payment",
    status.PAID: "Paid, e-tickets issued",
    status.REJECTED: "Not accepted by our staff",
    status.CANCELLED: "Cancelled",
    status.EXPIRED: "Hold expired, tickets released",
    status.REFUNDED: "Payment refunded",
}
ID_TYPE = {
    "id_card": "Resident ID card",
    "student_card": "Student card",
    "military_card": "Military ID",
    "disability_card": "Disability certificate",
    "senior_card": "Senior citizen card",
    "passport": "Passport",
    "other": "Other ID",
}
CHANNEL = {
    "box_office": "Box office window",
    "outlet": "Partner outlet",
    "web_shop": "Online shop",
    "partner": "Third-party platform",
}
# Whom stock is allocated to (db/inventory/allocations.py), and the kinds of stock alert (db/inventory/alerts.py).
STOCK_CHANNEL = CHANNEL_NAMES
ALERT_KIND = {"shortage": "Shortage", "slow_sale": "Slow sale"}
ALLOCATION_ENTRY = {
    "create": "Allocated",
    "move_in": "Moved in",
    "move_out": "Moved out",
    "replenish": "Replenished",
    "release": "Released",
}
REPLENISHMENT_SOURCE = {
    "hold_back": "Released from a hold-back",
    "promoter": "New allocation from the promoter",
    "consignment": "Consignment from an upstream supplier",
}
PAYMENT_METHOD = {
    "cash": "Cash",
    "card": "Bank card",
    "mobile": "Mobile payment",
    "partner": "Paid to partner",
    "sandbox": "Online (sandbox)",
}
PAYMENT_STATE = {
    "pending": "Pending",
    "processing": "Processing",
    "succeeded": "Succeeded",
    "refunded": "Refunded",
    "failed": "Failed",
}
DELIVERY = {"email": "E-mail", "sms": "SMS", "pickup": "Picked up at the window", "mail": "Mailed"}
# The kinds of event as people name them (zh_CN: 演出, 电影, 体育赛事, 景点门票).
EVENT_KIND = {
    "performance": "Performance",
    "film": "Film",
    "sport": "Sports match",
    "attraction": "Attraction admission",
}
# Session changes (db/sessionchange): kinds, states and the buyers' answers.
CHANGE_KIND = {"change": "Time or venue change", "cancel": "Cancellation", "postpone": "Postponement"}
CHANGE_STATUS = {"proposed": "Awaiting approval", "running": "Running", "done": "Finished", "rejected": "Rejected"}
CHANGE_CHOICE = {"keep": "Keep the tickets", "exchange": "Exchange", "refund": "Free refund"}
TICKET_STATUS = {"issued": "Issued", "revoked": "Revoked"}
ROLE: dict[Role, str] = {
    Role.SUPERVISOR: "Supervisor",
    Role.SELLER: "Seller",
    Role.AUDITOR: "Auditor",
    Role.ADMIN: "System administrator",
    Role.GATE: "Gate attendant",
}
# What each permission allows, as the staff page's matrix shows it (db/staff/permissions.py).
PERMISSION: dict[Permission, str] = {
    Permission.HOME: "Open the start page",
    Permission.CATALOG_VIEW: "See venues, events and sessions",
    Permission.CATALOG_EDIT: "Create and edit venues, events and sessions",
    Permission.PRICE_EDIT: "Set and schedule prices",
    Permission.SALES_INQUIRE: "Answer inquiries from live availability",
    Permission.SALES_SELL: "Sell tickets at the window and take payment",
    Permission.SALES_AUDIT: "Review orders before payment",
    Permission.SALES_REFUND: "Refund and exchange tickets",
    Permission.POLICY_EDIT: "Edit the sales policy",
    Permission.AFTERSALE_POLICY_EDIT: "Edit the refund and exchange policies",
    Permission.REFUND_APPROVE: "Approve refunds that need approval",
    Permission.SESSION_CHANGE: "Change a sold session's time or venue",
    Permission.SESSION_BULK: "Propose cancelling or postponing a session",
    Permission.SESSION_BULK_APPROVE: "Approve a cancellation or postponement",
    Permission.GATE_SCAN: "Scan tickets at a gate",
    Permission.GATE_MONITOR: "Watch live entry counts",
    Permission.AUDIT_LOG_VIEW: "Read the audit log",
    Permission.STAFF_MANAGE: "Manage staff accounts",
    Permission.STAFF_UNLOCK: "Unlock locked sign-ins",
    Permission.CUSTOMER_DATA_VIEW: "See buyers' details (masked)",
    Permission.AUDIT_CHAIN_VERIFY: "Check the audit log's chain",
    Permission.BACKUP_MANAGE: "Make, check and restore backups",
    Permission.CUSTOMER_DATA_REVEAL: "Show a masked phone or e-mail in full, with a purpose",
    Permission.DATA_USE_REQUEST: "Ask to use customer data beyond routine work",
    Permission.PRIVACY_OVERSEE: "Oversee reveals and approve data-use requests",
    Permission.REPORTS_VIEW: "See reports and export them",
    Permission.REPORTS_CUSTOMERS: "See reports that list buyers",
    Permission.REPORTS_SCHEDULE: "Schedule reports by e-mail",
    Permission.RISK_ALERTS: "See risk alerts and set their thresholds",
    Permission.INVENTORY_MONITOR: "Watch stock live and acknowledge its alerts",
    Permission.INVENTORY_MANAGE: "Allocate stock, set alert rules, ask to move stock",
    Permission.INVENTORY_APPROVE: "Approve stock moves and replenishment",
    Permission.INVENTORY_REQUEST: "Ask for replenishment",
    Permission.FINANCE_SHIFT: "Open and count one's own window shift",
    Permission.FINANCE_SIGNOFF: "See every shift and sign off variances",
    Permission.FINANCE_RECONCILE: "Reconcile payments every day",
    Permission.FINANCE_SETTLE: "Settle with partners",
    Permission.FINANCE_BUDGET: "Keep budgets and costs",
    Permission.INVENTORY_PAPER: "Keep paper ticket stock and count it",
    Permission.PAPER_PRINT: "Print tickets on paper stock",
    Permission.STOCKTAKE_SIGN: "Sign off a stock-take",
    Permission.PROMOTION_EDIT: "Set discounts and bundles",
    Permission.REALNAME_EDIT: "Mark sessions real-name and read their compliance",
}
# A session's status (db/catalog/tables.py EventSession.status), a stock-take's (db/inventory/stocktake.py) and the
# kinds of paper stock movement (db/inventory/paper.py), as staff read them (issue 15: no raw codes on pages).
SESSION_STATUS = {"on_sale": "On sale", "cancelled": "Cancelled", "postponed": "Postponed"}
STOCKTAKE_STATUS = {"counting": "Counting", "closed": "Closed, awaiting sign-off", "signed": "Signed off"}
PAPER_MOVE = {
    "receive": "Received",
    "issue": "Issued to a window",
    "return": "Returned to the store",
    "print": "Printed",
    "spoil": "Spoiled",
    "void": "Voided",
    "lose": "Lost",
}
# The buyer details a sale may ask for (db/sales/ordering/buyer.py BUYER_DETAILS; policy per kind and channel).
BUYER_DETAIL = {"name": "Full name", "phone": "Phone", "email": "E-mail", "id": "ID number"}
# Venue time zones offered on the venue form (db/catalog/tables.py Venue.timezone): a session's times show in its
# venue's zone (issue 15); the center's own is first.
TIMEZONE = {
    "Asia/Shanghai": "China (Beijing time)",
    "Asia/Hong_Kong": "Hong Kong",
    "Asia/Macau": "Macau",
    "Asia/Taipei": "Taipei",
    "Asia/Singapore": "Singapore",
    "Asia/Tokyo": "Tokyo",
    "Asia/Seoul": "Seoul",
    "Asia/Bangkok": "Bangkok",
    "Europe/London": "London",
    "Europe/Paris": "Paris",
    "America/New_York": "New York",
    "America/Los_Angeles": "Los Angeles",
    "Australia/Sydney": "Sydney",
}
# Finance (issue 12).
SHIFT_STATUS = {"open": "Open", "review": "Waiting for sign-off", "closed": "Closed"}
STATEMENT_STATUS = {"draft": "Draft", "confirmed": "Confirmed", "paid": "Paid", "discarded": "Discarded"}
RECON_EXCEPTION = {
    "missing_ours": "Missing in our books",
    "missing_theirs": "Missing on the statement",
    "amount": "Amounts differ",
    "status": "Statuses differ",
}
RECON_SOURCE = {"provider": "Payment provider", "orders": "Orders and payments", "partner": "Partner settlement"}
BUDGET_CATEGORY = {
    "ticket_income": "Ticket income",
    "upstream_purchase": "Upstream ticket purchases",
    "printing": "Printing",
    "expenses": "Expenses",
}
SETTLEMENT_CYCLE = {"weekly": "Weekly", "monthly": "Monthly"}
# Order-history notes the system writes word for word (the worded ones: db/sales/notes.py, web/i18n.py).
ORDER_NOTE = {
    "hold expired": "Hold expired",
    "paid after the hold expired; stock held again": "Paid after the hold expired; stock held again",
}

# What each audit action means (db/ record(...) calls; tests/auditlog checks that every action has one).
AUDIT_ACTION = {
    "aftersale.policy": "Refund and exchange rules saved",
    "agreement.create": "Partner agreement created",
    "alert.acknowledge": "Stock alert acknowledged",
    "alert.shortage": "Stock alert raised: shortage",
    "alert.slow_sale": "Stock alert raised: slow sale",
    "alert_rule.active": "Stock alert rule switched on or off",
    "alert_rule.create": "Stock alert rule created",
    "allocation.create": "Stock allocated",
    "allocation.move_approve": "Stock move approved",
    "allocation.move_reject": "Stock move rejected",
    "allocation.move_request": "Stock move requested",
    "allocation.pool_setting": "Open pool setting changed",
    "audit.verify": "Audit chain checked",
    "backup.make": "Backup made",
    "backup.restore": "Backup restored",
    "backup.verify": "Backup checked",
    "budget.set": "Budget set",
    "bundle.create": "Bundle created",
    "bundle.sell": "Bundle sold",
    "cost.record": "Cost recorded",
    "customer.reveal": "Customer data revealed",
    "customer.search": "Customers searched",
    "customer.view": "Customer viewed",
    "datause.approve": "Data-use request approved",
    "datause.download": "Data-use export downloaded",
    "datause.reject": "Data-use request rejected",
    "datause.request": "Data-use request made",
    "delivery.email": "E-tickets e-mailed",
    "delivery.mail": "Tickets mailed",
    "delivery.pickup": "Tickets picked up",
    "delivery.sms": "E-ticket SMS sent",
    "event.create": "Event created",
    "exchange.create": "Tickets exchanged",
    "exchange.provider": "Exchange paid through the provider",
    "finance.policy": "Finance settings saved",
    "gate.create": "Gate created",
    "gate.device.deactivate": "Gate device switched off",
    "gate.device.register": "Gate device registered",
    "gate.journal.upload": "Offline gate journal uploaded",
    "holder.change": "Ticket holder changed",
    "order.approve": "Order approved",
    "order.cancel": "Order cancelled",
    "order.create": "Order placed",
    "order.expire": "Order hold expired",
    "order.pay": "Order paid",
    "order.reject": "Order rejected",
    "paper.issue": "Paper ticket stock issued to a window",
    "paper.location": "Paper stock location saved",
    "paper.lose": "Paper tickets marked lost",
    "paper.print": "Paper ticket printed",
    "paper.receive": "Paper ticket stock received",
    "paper.return": "Paper ticket stock returned",
    "paper.spoil": "Paper tickets marked spoiled",
    "paper.void": "Paper tickets voided",
    "partner.key": "Partner key issued",
    "partner.revoke": "Partner key revoked",
    "payment.fail": "Payment failed",
    "payment.refund": "Payment refunded",
    "payment.refund_due": "Payment to refund (received after the hold ended)",
    "payment.start": "Online payment started",
    "policy.buyer_details": "Buyer-detail rules saved",
    "policy.channel": "Channel rules saved",
    "policy.concession": "Concession saved",
    "policy.group_tiers": "Group discount tiers saved",
    "price.cancel": "Scheduled price change cancelled",
    "price.schedule": "Price change scheduled",
    "promotion.create": "Promotion created",
    "promotion.end": "Promotion ended",
    "recon.close": "Reconciliation closed",
    "recon.match": "Reconciliation run",
    "recon.resolve": "Reconciliation difference resolved",
    "refund.approve": "Refund approved",
    "refund.decline": "Refund declined",
    "refund.pay_out": "Refund paid out",
    "refund.provider": "Refund sent to the provider",
    "refund.request": "Refund made or requested",
    "replenishment.approve": "Replenishment approved",
    "replenishment.carry_out": "Replenishment carried out",
    "replenishment.reject": "Replenishment rejected",
    "replenishment.request": "Replenishment requested",
    "report.export": "Report exported",
    "report.schedule": "Report scheduled",
    "report.unschedule": "Scheduled report removed",
    "retention.anonymise": "Old customer data anonymised",
    "retention.set": "Data retention set",
    "risk.acknowledge": "Risk alert acknowledged",
    "risk.rule": "Risk rule saved",
    "session.bulk.notify": "Buyers of a session notified",
    "session.bulk.retry": "Session job retried",
    "session.cancel.approve": "Session cancellation approved",
    "session.cancel.finish": "Session cancellation finished",
    "session.cancel.propose": "Session cancellation proposed",
    "session.cancel.reject": "Session cancellation rejected",
    "session.change": "Session time or venue changed",
    "session.change.approve": "Session change approved",
    "session.change.choice": "Buyer chose after a session change",
    "session.change.finish": "Session change finished",
    "session.change.propose": "Session change proposed",
    "session.change.reject": "Session change rejected",
    "session.create": "Session created",
    "session.postpone.approve": "Session postponement approved",
    "session.postpone.finish": "Session postponement finished",
    "session.postpone.propose": "Session postponement proposed",
    "session.postpone.reject": "Session postponement rejected",
    "session.realname": "Real-name rules of a session saved",
    "shift.count": "Shift cash counted",
    "shift.explain": "Shift difference explained",
    "shift.flag": "Shift flagged",
    "shift.open": "Shift opened",
    "shift.sign_off": "Shift signed off",
    "shop.lookup": "Order looked up in the shop",
    "staff.create": "Staff account created",
    "staff.sign_in": "Staff signed in",
    "staff.sign_in_unlock": "Staff sign-in unlocked",
    "staff.totp_off": "Two-step sign-in switched off",
    "staff.totp_on": "Two-step sign-in switched on",
    "staff.update": "Staff account changed",
    "statement.confirm": "Partner statement confirmed",
    "statement.create": "Partner statement drawn up",
    "statement.discard": "Partner statement discarded",
    "statement.paid": "Partner statement paid",
    "stocktake.close": "Stock-taking closed",
    "stocktake.count": "Stock counted",
    "stocktake.explain": "Stock-taking difference explained",
    "stocktake.sign": "Stock-taking signed",
    "stocktake.start": "Stock-taking started",
    "venue.create": "Venue created",
    "venue.seat_map": "Seat map saved",
    "window.create": "Box office window created",
}

ALL = {
    "ORDER_STATUS": ORDER_STATUS,
    "CUSTOMER_ORDER_STATUS": CUSTOMER_ORDER_STATUS,
    "ID_TYPE": ID_TYPE,
    "CHANNEL": CHANNEL,
    "STOCK_CHANNEL": STOCK_CHANNEL,
    "ALERT_KIND": ALERT_KIND,
    "ALLOCATION_ENTRY": ALLOCATION_ENTRY,
    "REPLENISHMENT_SOURCE": REPLENISHMENT_SOURCE,
    "PAYMENT_METHOD": PAYMENT_METHOD,
    "PAYMENT_STATE": PAYMENT_STATE,
    "DELIVERY": DELIVERY,
    "EVENT_KIND": EVENT_KIND,
    "TICKET_STATUS": TICKET_STATUS,
    "ROLE": ROLE,
    "PERMISSION": PERMISSION,
    "TIMEZONE": TIMEZONE,
    "BUYER_DETAIL": BUYER_DETAIL,
    "SESSION_STATUS": SESSION_STATUS,
    "STOCKTAKE_STATUS": STOCKTAKE_STATUS,
    "PAPER_MOVE": PAPER_MOVE,
    "CHANGE_KIND": CHANGE_KIND,
    "CHANGE_STATUS": CHANGE_STATUS,
    "CHANGE_CHOICE": CHANGE_CHOICE,
    "SHIFT_STATUS": SHIFT_STATUS,
    "STATEMENT_STATUS": STATEMENT_STATUS,
    "RECON_EXCEPTION": RECON_EXCEPTION,
    "RECON_SOURCE": RECON_SOURCE,
    "BUDGET_CATEGORY": BUDGET_CATEGORY,
    "SETTLEMENT_CYCLE": SETTLEMENT_CYCLE,
    "ORDER_NOTE": ORDER_NOTE,
    "AUDIT_ACTION": AUDIT_ACTION,
}
