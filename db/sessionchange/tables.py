"""Session change tables (issue 11; R6.1, R9.3).

A SessionChange is one decision about a session: `change` (its time or venue, applied at once by a permitted
role), `cancel` or `postpone` (proposed with a dry run, approved by a second person, then carried out by the
background job). A ChangeOrder is one affected order of it: the unique key (change, order) makes each order
claimed once; its status moves pending -> done | failed in the same transaction as the order's refund, so a
killed server leaves it pending and the restarted job does it, once."""

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import EventSession, Venue
from db.sales.tables import Order


class SessionChange(Table, tablename="session_change"):
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=10)  # change | cancel | postpone
    status = Varchar(length=12, index=True)  # proposed | running | done | rejected
    reason = Text()
    old_starts_at = Timestamptz()
    new_starts_at = Timestamptz(null=True, default=None)
    old_venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    new_venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=True, default=None)
    choice_until = Timestamptz(null=True, default=None)  # the buyers' deadline to keep, exchange or refund free
    figures = JSON(default="{}")  # the dry run: orders, tickets, money by payment method and channel
    requested_by_id = Integer(null=True, default=None)
    requested_by_name = Varchar(length=100)
    requested_at = Timestamptz()
    approved_by_id = Integer(null=True, default=None)
    approved_by_name = Varchar(length=100, default="")
    approved_at = Timestamptz(null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)  # the worker running the job holds it until then
    finished_at = Timestamptz(null=True, default=None)


class ChangeOrder(Table, tablename="session_change_order"):
    change = ForeignKey(references=SessionChange, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=10, default="pending", index=True)  # pending | done | failed
    attempts = Integer(default=0)
    refund_id = Integer(null=True, default=None)
    refund_fen = Integer(default=0)
    failure = Text(default="")
    done_at = Timestamptz(null=True, default=None)
    notified_at = Timestamptz(null=True, default=None)  # the e-mail and SMS were handed over
    mail_status = Varchar(length=10, default="")  # '' | sending (handed over, unanswered) | sent | failed | none
    choice = Varchar(length=10, default="")  # '' | keep | exchange | refund (the buyer's answer)
    chosen_at = Timestamptz(null=True, default=None)
