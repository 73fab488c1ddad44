"""Orders, payments and tickets: the sales flow of R3.3-R3.6."""

import os

from piccolo.conf.apps import AppConfig

from db.sales.aftersale.tables import AftersalePolicy, Exchange, ExchangeTicket, Refund, RefundTicket, Revocation
from db.sales.tables import (
    BuyerDetailsPolicy,
    ChannelPolicy,
    ConcessionKind,
    Delivery,
    GroupDiscountTier,
    Order,
    OrderEvent,
    OrderItem,
    Partner,
    PartnerKey,
    Payment,
    PaymentRefund,
    SandboxRefund,
    SmsMessage,
    Ticket,
)

APP_CONFIG = AppConfig(
    app_name="sales",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        BuyerDetailsPolicy,
        ChannelPolicy,
        GroupDiscountTier,
        ConcessionKind,
        Partner,
        PartnerKey,
        Order,
        OrderItem,
        OrderEvent,
        Payment,
        PaymentRefund,
        SandboxRefund,
        Ticket,
        Delivery,
        SmsMessage,
        AftersalePolicy,
        Refund,
        RefundTicket,
        Revocation,
        Exchange,
        ExchangeTicket,
    ],
    migration_dependencies=["db.catalog.piccolo_app", "db.staff.piccolo_app"],
    commands=[],
)
