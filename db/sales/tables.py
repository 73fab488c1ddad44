"""The sales tables (R3.3-R3.6). Orders and tickets never cascade away (on_delete=restrict).

Status values live in db/sales/status.py; composite unique keys are made by a raw SQL migration."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import EventSession, PriceClass, Seat
from db.staff.tables import StaffUser


class ChannelPolicy(Table, tablename="sales_channel_policy"):
    """Per channel (R3.3, R3.4): whether its orders wait for an auditor and how long stock is held."""

    channel = Varchar(length=20, unique=True)  # box_office | outlet | web_shop | partner
    needs_audit = Boolean(default=False)
    hold_minutes = Integer(default=15)
    updated_at = Timestamptz()


class BuyerDetailsPolicy(Table, tablename="sales_buyer_policy"):
    """Which buyer details a sale needs (R1.1), per event kind and channel: each change adds the next version
    (db/sales/policy.py reads the highest); no row at all means name and phone."""

    event_kind = Varchar(length=20)  # db/catalog/operations.py EVENT_KINDS
    channel = Varchar(length=20)  # db/sales/status.py CHANNELS
    details = Varchar(length=60, default="")  # comma-separated of db.sales.policy.BUYER_DETAILS; '' asks nothing
    version = Integer()
    created_at = Timestamptz()
    created_by = Varchar(length=100, default="")


class GroupDiscountTier(Table, tablename="sales_group_tier"):
    """Group discount policy (R3.5): an order of at least `min_size` tickets gets `percent_off`."""

    min_size = Integer(unique=True)
    percent_off = Integer()
    updated_at = Timestamptz()


class ConcessionKind(Table, tablename="sales_concession_kind"):
    """A concession (R3.6) as data: a percentage off or a fixed price, and whether an ID must be checked."""

    code = Varchar(length=20, unique=True)
    name_zh = Varchar(length=40)
    name_en = Varchar(length=40)
    percent_off = Integer(null=True, default=None)
    fixed_price_fen = Integer(null=True, default=None)
    requires_id = Boolean(default=True)
    id_hint = Varchar(length=100, default="")
    active = Boolean(default=True)


class Partner(Table, tablename="sales_partner"):
    """A third-party platform or partner outlet selling through the API."""

    name = Varchar(length=60, unique=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class PartnerKey(Table, tablename="sales_partner_key"):
    """An API key of a partner; only the SHA-256 of the key is stored."""

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=False, index=True)
    key_sha256 = Varchar(length=64, unique=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class Order(Table, tablename="sales_order"):
    code = Varchar(length=16, unique=True, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    channel = Varchar(length=20, index=True)  # box_office | outlet | web_shop | partner
    status = Varchar(length=20, index=True)  # see db/sales/status.py
    buyer_name = Varchar(length=100)
    buyer_phone = Varchar(length=30)
    buyer_email = Varchar(length=200, default="")
    total_fen = Integer()
    seller = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True)
    outlet = Varchar(length=60, default="")  # partner outlet or platform name
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    buyer_id_masked = Varchar(length=40, default="")
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)
    needs_audit = Boolean(default=False)
    group_size = Integer(default=0)  # tickets in a group order (0: not a group order)
    group_percent_off = Integer(default=0)
    subtotal_fen = Integer(default=0)  # before discounts
    audited_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    audited_at = Timestamptz(null=True, default=None)
    reject_reason = Text(default="")


class OrderItem(Table, tablename="sales_order_item"):
    """One line of an order with its price breakdown: a GA class and quantity, or one seat."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    seat = ForeignKey(references=Seat, on_delete=OnDelete.restrict, null=True, default=None)
    quantity = Integer(default=1)
    list_price_fen = Integer()  # the price in force at order time (R3.2)
    concession = Varchar(length=20, default="")
    id_type = Varchar(length=20, default="")  # the ID the seller checked for a concession (R3.6)
    id_masked = Varchar(length=40, default="")
    unit_price_fen = Integer()
    line_total_fen = Integer()
    breakdown = JSON(default="{}")
    # The stock allocation (db/inventory/tables.py stock_allocation) the line drew from; None: the class had none.
    allocation = Integer(null=True, default=None)


class OrderEvent(Table, tablename="sales_order_event"):
    """The order's status history: who moved it to which status, when (R3.4); shown to customers."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    at = Timestamptz()
    status = Varchar(length=20)
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)
    note = Text(default="")


class Payment(Table, tablename="sales_payment"):
    """Money for an order: at the window (cash, card, mobile), partner-prepaid, or an online provider."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    method = Varchar(length=20)  # cash | card | mobile | partner | sandbox
    amount_fen = Integer()
    tendered_fen = Integer(null=True, default=None)
    change_fen = Integer(null=True, default=None)
    reference = Varchar(length=64, null=True, default=None, unique=True)  # provider's payment id
    status = Varchar(length=20, index=True)  # pending | succeeded | refunded | failed
    outcome = Varchar(length=20, default="")  # accepted | reheld | refund_due
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)


class PaymentRefund(Table, tablename="sales_payment_refund"):
    """Money sent back automatically, e.g. a payment that arrived after its seats were sold to others."""

    payment = ForeignKey(references=Payment, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    amount_fen = Integer()
    reason = Text()
    status = Varchar(length=20)  # done | pending
    created_at = Timestamptz()


class SandboxRefund(Table, tablename="sandbox_refund"):
    """The sandbox provider's side of a refund we asked it for (db/sales/payments/sandbox.py): keyed by our
    refund number, so the same number asked twice is one refund. processing -> succeeded | failed, then the
    outcome is posted to `notify_url` until it is received (`notified_at`)."""

    number = Varchar(length=24, unique=True)
    reference = Varchar(length=64)  # the provider's payment id
    order_code = Varchar(length=40, default="")
    amount_fen = Integer()
    notify_url = Varchar(length=300, default="")
    status = Varchar(length=12, index=True)  # processing | succeeded | failed
    failure = Text(default="")
    requested_at = Timestamptz()
    settled_at = Timestamptz(null=True, default=None)
    notified_at = Timestamptz(null=True, default=None)


class Ticket(Table, tablename="ticket"):
    """One admission. `code` is the exact, signed text of its QR code, `short_code` its typeable number."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    seat = ForeignKey(references=Seat, on_delete=OnDelete.restrict, null=True, default=None)
    price_fen = Integer()
    concession = Varchar(length=20, default="")  # '' or a concession kind: student, military, ...
    status = Varchar(length=12, default="issued", index=True)  # issued | revoked
    code = Varchar(length=200, null=True, default=None, unique=True)
    # the short number a person types at a gate (db/sales/tickets/short_numbers.py); unique (raw index)
    short_code = Varchar(length=11, null=True, default=None)
    issued_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    policy_version = Integer(null=True, default=None)  # the refund/exchange rules in force at issue (aftersale)


class Delivery(Table, tablename="sales_delivery"):
    """How tickets reached the buyer (R3.4.5): email, sms, pickup at the window, or mailing."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=10)  # email | sms | pickup | mail
    status = Varchar(length=10)  # sent | failed | done
    at = Timestamptz()
    actor_name = Varchar(length=100)
    note = Text(default="")


class SmsMessage(Table, tablename="sales_sms_outbox"):
    """The SMS outbox: messages waiting for (or handed to) the SMS gateway."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    phone = Varchar(length=30)
    body = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
