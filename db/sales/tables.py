from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import EventSession, PriceClass, Seat
from db.staff.tables import StaffUser


class Order(Table, tablename="sales_order"):
    code = Varchar(length=16, unique=True, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    channel = Varchar(length=20, index=True)  # box_office | outlet | web_shop | partner
    status = Varchar(length=20, index=True)  # held | awaiting_audit | awaiting_payment | paid | ...
    buyer_name = Varchar(length=100)
    buyer_phone = Varchar(length=30)
    buyer_email = Varchar(length=200, default="")
    total_fen = Integer()
    seller = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True)
    outlet = Varchar(length=60, default="")  # partner outlet or platform name
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)


class Ticket(Table, tablename="ticket"):
    """One admission. `code` is the exact, signed text of its QR code."""

    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    price_class = ForeignKey(references=PriceClass, on_delete=OnDelete.restrict, null=False)
    seat = ForeignKey(references=Seat, on_delete=OnDelete.restrict, null=True, default=None)
    price_fen = Integer()
    concession = Varchar(length=20, default="")  # '' or a concession kind: student, military, ...
    status = Varchar(length=12, default="issued", index=True)  # issued | revoked
    code = Varchar(length=200, null=True, default=None, unique=True)
    issued_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
