from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.staff.tables import StaffUser


class Venue(Table, tablename="venue"):
    name = Varchar(length=100, unique=True)
    city = Varchar(length=50)
    address = Varchar(length=200, default="")
    timezone = Varchar(length=50, default="Asia/Shanghai")


class Seat(Table, tablename="seat"):
    """One seat of a venue's plan. (venue, section, row_label, number) is unique (index made in the migration)."""

    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False, index=True)
    section = Varchar(length=40)
    row_label = Varchar(length=10)
    number = Integer()
    seat_class = Varchar(length=20)
    x = Integer()
    y = Integer()
    obstructed = Boolean(default=False)  # obstructed view: shown to buyers, refunds always fee-free


class Gate(Table, tablename="gate"):
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=20, unique=True)
    name = Varchar(length=60)


class Event(Table, tablename="event"):
    name = Varchar(length=120)
    kind = Varchar(length=20, index=True)  # performance | film | sport | attraction
    description = Text(default="")
    duration_minutes = Integer(default=120)
    created_at = Timestamptz()


class EventSession(Table, tablename="event_session"):
    """A 场次: one date and time of an event at a venue."""

    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, null=False, index=True)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False, index=True)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    seated = Boolean(default=False)
    status = Varchar(length=20, default="on_sale")  # on_sale | cancelled | postponed
    admission_opens_at = Timestamptz()
    admission_closes_at = Timestamptz()
    reentry_allowed = Boolean(default=False)


class SessionGate(Table, tablename="session_gate"):
    """A gate that admits a session's tickets; `sections` (comma separated) limits it, empty = all."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False, index=True)
    sections = Varchar(length=200, default="")


class PriceClass(Table, tablename="price_class"):
    """A price per session and seat class (seated) or a general-admission quota.

    `price_fen` is the price it was created with; scheduled PriceChange rows take over at their time.
    `available` counts unsold, unheld general-admission tickets (seated classes count free seats)."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=40)
    seat_class = Varchar(length=20, default="")
    price_fen = Integer()
    capacity = Integer(default=0)
    available = Integer(default=0)


class PriceChange(Table, tablename="price_change"):
    """A price change published in advance (R3.2): the notice is shown until and after it takes effect."""

    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False, index=True)
    price_fen = Integer()
    effective_at = Timestamptz(index=True)
    notice = Text()
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()
    cancelled = Boolean(default=False)


class SessionSeat(Table, tablename="session_seat"):
    """The stock of one seat for one session: free, held (until held_until) or sold."""

    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    seat = ForeignKey(references=Seat, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    status = Varchar(length=10, default="free")  # free | held | sold
    hold_ref = Varchar(length=40, null=True, default=None, index=True)
    held_until = Timestamptz(null=True, default=None)
