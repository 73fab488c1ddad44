"""Every code's label as people read it: one place for each (English msgids; zh_CN in the areas' catalogs,
translations/zh_CN/LC_MESSAGES/*.po). Templates get them in the request's language through
`translated_labels` (templates/sales/_labels.html) or `_()`; web/errors.py words a status in a message."""

from __future__ import annotations

from db.sales import status
from db.staff.permissions import Role

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
STOCK_CHANNEL = {
    "pool": "Open pool",
    "hold_back": "Hold-back",
    "box_office": "Box office",
    "outlet": "Outlet",
    "web_shop": "Online shop",
    "partner": "Partner",
}
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
    "CHANGE_KIND": CHANGE_KIND,
    "CHANGE_STATUS": CHANGE_STATUS,
    "CHANGE_CHOICE": CHANGE_CHOICE,
    "SHIFT_STATUS": SHIFT_STATUS,
    "STATEMENT_STATUS": STATEMENT_STATUS,
    "RECON_EXCEPTION": RECON_EXCEPTION,
    "RECON_SOURCE": RECON_SOURCE,
    "BUDGET_CATEGORY": BUDGET_CATEGORY,
    "SETTLEMENT_CYCLE": SETTLEMENT_CYCLE,
}
