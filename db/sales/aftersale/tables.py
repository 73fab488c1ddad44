"""After-sale tables (issue 11): refund and exchange policy versions, refunds and the tickets they void.

A policy version is never changed: an edit adds a version (who, when, why). A ticket records the version
in force when it was issued (Ticket.policy_version). A ticket is refunded at most once: refund_ticket's
ticket column is unique."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import Event
from db.sales.tables import Order, Partner, Ticket
from db.staff.tables import StaffUser


class AftersalePolicy(Table, tablename="aftersale_policy"):
    """One version of the refund and exchange rules of an event kind ('' = every kind) or of one event.

    Its id is its version number, the one a ticket and a refund cite."""

    event_kind = Varchar(length=20, default="", index=True)  # '' (default) | performance | film | sport | attraction
    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    rules = JSON(default="{}")  # db.sales.aftersale.rules.Rules.as_json()
    reason = Text(default="")
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()


class Refund(Table, tablename="aftersale_refund"):
    """A refund of some tickets of an order: requested -> approved -> done | failed (then handled by hand);
    requested -> declined (the approver's reason; the tickets are valid again)."""

    number = Varchar(length=24, unique=True)  # RF..., sent to the provider: a retry refunds once
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=12, index=True)  # requested | approved | done | failed | declined
    cause = Varchar(length=20, default="request")  # request | cancelled | event_change
    method = Varchar(length=20)  # how the money goes back: cash | card | mobile | partner | sandbox
    price_fen = Integer()
    fee_fen = Integer()
    refund_fen = Integer()
    policy_version = Integer()
    breakdown = JSON(default="{}")  # Quote.breakdown(): tier, per-ticket lines (R5.2)
    proof = Text(default="")  # what proof of purchase the seller checked
    id_masked = Varchar(length=40, default="")  # the ID checked, masked
    channel = Varchar(length=20, default="")  # where it was asked for: box_office | web_shop | partner | bulk
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)
    requested_by_id = Integer(null=True, default=None)
    requested_by_name = Varchar(length=100)
    requested_at = Timestamptz()
    approved_by_id = Integer(null=True, default=None)
    approved_by_name = Varchar(length=100, default="")
    approved_at = Timestamptz(null=True, default=None)
    reference = Varchar(length=64, default="")  # the card/mobile reversal's or the provider's reference
    done_at = Timestamptz(null=True, default=None)
    failure = Text(default="")
    decline_reason = Text(default="")  # declined (the approver's reason): the tickets were restored


class Revocation(Table, tablename="ticket_revocation"):
    """The numbered log of revoked tickets (issue 11, R5.3): offline gates fetch it as a delta `since=N` on
    every sync (db/gate/sync.py). Written in the transaction that revokes the ticket."""

    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, index=True)
    session = Integer(index=True)
    at = Timestamptz()
    restored = Boolean(default=False)  # True: the ticket was made valid again (a declined refund)


class RefundTicket(Table, tablename="aftersale_refund_ticket"):
    refund = ForeignKey(references=Refund, on_delete=OnDelete.restrict, null=False, index=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, unique=True)
    price_fen = Integer()
    fee_fen = Integer()
    refund_fen = Integer()


class Exchange(Table, tablename="aftersale_exchange"):
    """An exchange (R5.4): tickets of an order revoked and new ones issued in a new order of the same buyer for
    another seat, class or session of the same event, in one transaction. Money: the old tickets' price less
    the exchange fee is carried to the new order; `difference_fen` (new price - carried) was charged (+) or
    paid back (-) by `method`."""

    number = Varchar(length=24, unique=True)  # EX...
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    new_order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    method = Varchar(length=20, default="")  # the difference's: cash | card | mobile | partner | sandbox | ''
    price_fen = Integer()  # the old tickets' price
    fee_fen = Integer()
    new_price_fen = Integer()
    difference_fen = Integer()
    policy_version = Integer()
    breakdown = JSON(default="{}")  # Quote.breakdown() of the exchange (R5.2)
    channel = Varchar(length=20, default="")  # box_office | web_shop | partner
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)
    reference = Varchar(length=64, default="")  # the card/mobile payment or reversal of the difference
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)
    at = Timestamptz()


class ExchangeTicket(Table, tablename="aftersale_exchange_ticket"):
    """Which old ticket became which new one; an old ticket is exchanged at most once."""

    exchange = ForeignKey(references=Exchange, on_delete=OnDelete.restrict, null=False, index=True)
    old_ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, unique=True)
    new_ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, unique=True)
