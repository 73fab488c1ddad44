"""Inventory tables (R4.2-R4.4): channel allocations and their ledger, moves between allocations, alert rules
and raised alerts, replenishment requests and the cost of consignment stock.

Composite unique keys and the immutability of the ledger are made by a raw SQL migration."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import EventSession, PriceClass
from db.sales.tables import Partner


class Allocation(Table, tablename="stock_allocation"):
    """A share of one price class of a session (general-admission tickets, or seats counted) given to a channel,
    a named outlet of a channel or a partner; `channel = 'pool'` is the open pool (one per class, made with the
    class's first allocation) and `channel = 'hold_back'` stock kept off sale. Once a class has allocations,
    its free stock (price_class.available, or its free seats) is exactly the sum of their `available`.

    `quantity` is the size given (changed only with a ledger entry); `available` what is left to sell in it
    (quantity less held and sold). `may_use_pool`: when this allocation runs out, its sales draw on the pool."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False, index=True)
    channel = Varchar(length=20)  # pool | hold_back | box_office | outlet | web_shop | partner
    outlet = Varchar(length=60, default="")  # a named outlet or window of the channel; '' = the whole channel
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    quantity = Integer(default=0)
    available = Integer(default=0)
    may_use_pool = Boolean(default=False)
    created_at = Timestamptz()


class AllocationEntry(Table, tablename="stock_allocation_entry"):
    """The allocation ledger: one immutable entry per change of an allocation's size (an UPDATE is refused).

    kind: create | move_in | move_out | replenish | release (from a hold-back)."""

    allocation = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=False, index=True)
    at = Timestamptz()
    kind = Varchar(length=20)
    delta = Integer()
    move_id = Integer(null=True, default=None)
    replenishment_id = Integer(null=True, default=None)
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)
    approved_by_name = Varchar(length=100, default="")
    note = Text(default="")


class AllocationMove(Table, tablename="stock_allocation_move"):
    """A request to move free stock from one allocation to another, decided by a second person."""

    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False, index=True)
    source = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=False)
    target = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=False)
    quantity = Integer()
    reason = Text()
    status = Varchar(length=20, default="requested", index=True)  # requested | approved | rejected
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=100)
    requested_at = Timestamptz()
    decided_by = Integer(null=True, default=None)
    decided_by_name = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")


class AlertRule(Table, tablename="stock_alert_rule"):
    """An alert rule as data (R4.2).

    shortage: remaining below `remaining_below` tickets or below `percent_below` % of capacity, while more than
    `hours_before` hours are left before the session; slow_sale: at `hours_before` hours before the session
    (and later), sold below `target_percent` % of capacity (one point of the target curve: several rules make
    the curve). `session` empty: every session; `channel` empty: the class as a whole, else that channel's
    allocation."""

    kind = Varchar(length=20)  # shortage | slow_sale
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=True, default=None)
    channel = Varchar(length=20, default="")
    remaining_below = Integer(null=True, default=None)
    percent_below = Integer(null=True, default=None)
    hours_before = Integer(default=0)
    target_percent = Integer(null=True, default=None)
    notify_email = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()


class Alert(Table, tablename="stock_alert"):
    """A raised alert: once per rule, session, class and channel (`key` is unique), then acknowledged with a note."""

    key = Varchar(length=100, unique=True)
    rule = ForeignKey(references=AlertRule, on_delete=OnDelete.restrict, null=False)  # no index: its name is a table
    kind = Varchar(length=20)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    channel = Varchar(length=20, default="")
    raised_at = Timestamptz(index=True)
    figures = JSON(default={})
    emailed_to = Varchar(length=200, default="")
    emailed_at = Timestamptz(null=True, default=None)
    email_error = Varchar(length=200, default="")
    acknowledged_by_name = Varchar(length=100, default="")
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledgement = Text(default="")


class Replenishment(Table, tablename="stock_replenishment"):
    """A replenishment request (R4.4): raised by a seller or from a shortage alert, approved or rejected by a
    supervisor; an approved one is a plan with its source, carried out into an allocation.

    source: hold_back (released from a hold-back allocation) | promoter (a new allocation from the promoter,
    adding capacity) | consignment (bought from an upstream supplier: supplier, agreement, cost per ticket)."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    target = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=True, default=None)
    alert = ForeignKey(references=Alert, on_delete=OnDelete.restrict, null=True, default=None)
    quantity = Integer()
    reason = Text()
    status = Varchar(length=20, default="requested", index=True)  # requested | planned | rejected | done
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=100)
    requested_at = Timestamptz()
    decided_by_name = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    source = Varchar(length=20, default="")
    hold_back = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=True, default=None)
    supplier = Varchar(length=100, default="")
    agreement = Varchar(length=100, default="")
    cost_per_ticket_fen = Integer(default=0)
    done_by_name = Varchar(length=100, default="")
    done_at = Timestamptz(null=True, default=None)


class SupplyCost(Table, tablename="stock_supply_cost"):
    """What consignment stock cost (immutable; the finance budget reads it): one row per carried-out purchase."""

    replenishment = ForeignKey(references=Replenishment, on_delete=OnDelete.restrict, null=False, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    at = Timestamptz()
    supplier = Varchar(length=100)
    agreement = Varchar(length=100)
    quantity = Integer()
    cost_per_ticket_fen = Integer()
    total_fen = Integer()
    actor_name = Varchar(length=100)
