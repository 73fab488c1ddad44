"""Inventory tables (issue 13, R4): channel allocations and their ledger, moves between allocations, alert rules
and raised alerts, replenishment requests and the cost of consignment stock (R4.2-R4.4); real-name sessions and
their ticket holders, paper ticket stock by serial, stock-takes, and promotions for slow sellers (R4.1, R4.3,
R4.5, the real-name rules).

Composite unique keys and the immutability of the ledger are made by a raw SQL migration."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import Event, EventSession, PriceClass, Seat
from db.sales.tables import Order, OrderItem, Partner, Ticket
from db.staff.tables import StaffUser


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


class AllocationSeat(Table, tablename="stock_allocation_seat"):
    """A seat of a seat block: the allocation (of a seated class) it is given to, so that only that allocation's
    channel, outlet or partner sells it (a seat is in one block at most: a unique key per session and seat, made
    by a raw SQL migration). A block's `available` counts its free seats."""

    allocation = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=False, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False)
    seat = ForeignKey(references=Seat, on_delete=OnDelete.restrict, null=False)


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


class RealNameSession(Table, tablename="inventory_realname_session"):
    """A session sold under the real-name rules for large performances: every ticket bound to one holder,
    one ticket per ID number; `approved_capacity` is what the authorities approved, `reserved` the tickets
    kept back from public sale (at least 85% of the approved capacity must be on public sale)."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, unique=True)
    approved_capacity = Integer(default=0)
    reserved = Integer(default=0)
    marked_at = Timestamptz()
    marked_by = Varchar(length=100)


class TicketHolder(Table, tablename="inventory_ticket_holder"):
    """The one holder of a ticket of a real-name session. The ID number is never stored: `id_masked` for
    display, `id_key` (an HMAC with the server's key) for the one-per-session match. Unique (session, id_key)."""

    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=True, default=None, unique=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    order_item = ForeignKey(references=OrderItem, on_delete=OnDelete.restrict, null=False)
    unit = Integer(default=1)  # which ticket of the order line (a general-admission line has several)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=100)
    id_type = Varchar(length=20, default="id_card")
    id_masked = Varchar(length=40)
    id_key = Varchar(length=80)  # 'released:<id>' once the order or ticket is gone (the ID may buy again)
    bound_at = Timestamptz()
    changed_at = Timestamptz(null=True, default=None)  # the one change of holder (realname.change_holder)
    changed_by = Varchar(length=100, default="")


class PaperLocation(Table, tablename="inventory_paper_location"):
    """Where blank ticket stock is: a storage location (store) or a box-office window."""

    name = Varchar(length=60, unique=True)
    kind = Varchar(length=10)  # store | window


class PaperSerial(Table, tablename="inventory_paper_serial"):
    """One blank ticket of a category, by serial number. Unique (category, serial).

    state: in_store (received, never issued or returned to the store), at_window, printed (its ticket),
    spoiled (misprint), voided (stub kept), lost."""

    category = Varchar(length=20)
    serial = Integer()
    store = ForeignKey(references=PaperLocation, on_delete=OnDelete.restrict, null=False, index=True)
    window = ForeignKey(references=PaperLocation, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    state = Varchar(length=12, default="in_store", index=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=True, default=None, unique=True)
    stub_ticket = Integer(null=True, default=None)  # the ticket a voided printed serial was printed for
    reason = Text(default="")
    changed_at = Timestamptz()


class PaperMovement(Table, tablename="inventory_paper_movement"):
    """The paper stock journal: every receive, issue, return, print, spoil, void and loss of a serial range."""

    at = Timestamptz(index=True)
    kind = Varchar(length=10, index=True)  # receive | issue | return | print | spoil | void | lose
    category = Varchar(length=20, index=True)
    first_serial = Integer()
    last_serial = Integer()
    quantity = Integer()
    store = ForeignKey(references=PaperLocation, on_delete=OnDelete.restrict, null=False)
    window = ForeignKey(references=PaperLocation, on_delete=OnDelete.restrict, null=True, default=None)
    ticket = Integer(null=True, default=None)
    reason = Text(default="")
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)


class StockCount(Table, tablename="inventory_stock_count"):
    """A stock-take of one location's paper stock (R4.1): counted, compared with the ledger, variances
    explained, signed off by a supervisor."""

    location = ForeignKey(references=PaperLocation, on_delete=OnDelete.restrict, null=False, index=True)
    period = Varchar(length=12)  # monthly | quarterly | on_demand
    status = Varchar(length=12, default="counting")  # counting | closed | signed
    started_at = Timestamptz()
    started_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    signed_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    expected = JSON(default="{}")  # the ledger at closing: {category: [serials]}
    note = Text(default="")


class CountedSerial(Table, tablename="inventory_counted_serial"):
    """A serial found during a count. Unique (stock_count, category, serial)."""

    stock_count = ForeignKey(references=StockCount, on_delete=OnDelete.restrict, null=False, index=True)
    category = Varchar(length=20)
    serial = Integer()
    counted_at = Timestamptz()


class Variance(Table, tablename="inventory_variance"):
    """A difference between ledger and count: `missing` (in the ledger, not found) or `extra` (found, not
    in the ledger at this location), with the explanation the supervisor signs off."""

    stock_count = ForeignKey(references=StockCount, on_delete=OnDelete.restrict, null=False, index=True)
    category = Varchar(length=20)
    first_serial = Integer()
    last_serial = Integer()
    kind = Varchar(length=8)  # missing | extra
    explanation = Text(default="")
    explained_by = Varchar(length=100, default="")


class Promotion(Table, tablename="inventory_promotion"):
    """A discount for a slow seller (R4.3): percent off or a fixed amount off per ticket, for some classes
    of one session, within a validity window, on some channels, for at most `limit_tickets` tickets."""

    name = Varchar(length=60)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_classes = JSON(default="[]")  # ids; [] = every class
    kind = Varchar(length=10)  # percent | amount
    value = Integer()  # percent (1-90) or fen off
    channels = JSON(default="[]")
    valid_from = Timestamptz()
    valid_until = Timestamptz()
    limit_tickets = Integer()
    used = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz()
    created_by = Varchar(length=100)


class Bundle(Table, tablename="inventory_bundle"):
    """Two sessions (of one event or two) sold together at one price: one ticket of each class named."""

    name = Varchar(length=60)
    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, null=True, default=None)
    first_class = Integer()  # price class ids
    second_class = Integer()
    price_fen = Integer()
    channels = JSON(default="[]")
    valid_from = Timestamptz()
    valid_until = Timestamptz()
    limit_sets = Integer()
    used = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz()
    created_by = Varchar(length=100)
