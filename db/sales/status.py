"""Order and ticket status names, and which statuses hold stock or can be paid: one place for each."""

from __future__ import annotations

CHANNELS = ("box_office", "outlet", "web_shop", "partner")
BOX_OFFICE = "box_office"
ONLINE_CHANNELS = ("web_shop", "partner")  # no one hands the buyer a printed ticket: e-tickets only

HELD = "held"  # stock held, no audit needed: pay before expires_at
AWAITING_AUDIT = "awaiting_audit"  # stock held until the auditor decides
REJECTED = "rejected"
AWAITING_PAYMENT = "awaiting_payment"  # approved by the auditor: pay before expires_at
PAID = "paid"
CANCELLED = "cancelled"
EXPIRED = "expired"
REFUNDED = "refunded"

ORDER_STATUSES = (HELD, AWAITING_AUDIT, REJECTED, AWAITING_PAYMENT, PAID, CANCELLED, EXPIRED, REFUNDED)
HOLDING = (HELD, AWAITING_AUDIT, AWAITING_PAYMENT)  # statuses whose stock is held
PAYABLE = (HELD, AWAITING_PAYMENT)
EXPIRING = (HELD, AWAITING_PAYMENT)  # audit queue orders keep their hold until decided

TICKET_ISSUED = "issued"
TICKET_REVOKED = "revoked"

WINDOW_METHODS = ("cash", "card", "mobile")
