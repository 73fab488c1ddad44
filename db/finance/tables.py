"""The money ledger: immutable entries (an UPDATE is refused by a trigger on both engines)."""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.sales.tables import Order, Partner


class LedgerEntry(Table, tablename="finance_ledger"):
    """One movement of money. `amount_fen` is signed from the center's side: money in > 0, money out < 0.

    kind: sale (the order's value becomes due), payment (money received), refund (money paid back),
    fee_kept (the refund fee the center keeps), price_difference (an exchange's difference, either way)."""

    at = Timestamptz(index=True)
    kind = Varchar(length=20, index=True)
    amount_fen = Integer()
    method = Varchar(length=20, default="")  # cash | card | mobile | partner | sandbox
    channel = Varchar(length=20, default="")
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, null=True, default=None)
    refund_id = Integer(null=True, default=None, index=True)
    payment_id = Integer(null=True, default=None)
    drawer_id = Integer(null=True, default=None, index=True)  # the seller whose cash drawer it went in or out of
    reference = Varchar(length=64, default="")
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100)
    note = Text(default="")
