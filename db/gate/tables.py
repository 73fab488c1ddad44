"""Gate tables: devices that scan, one presence row per admitted ticket, every scan, and the conflicts
that offline gates leave for the supervisor. No customer data is kept here."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.catalog.tables import EventSession, Gate
from db.sales.tables import Ticket
from db.staff.tables import StaffUser


class GateDevice(Table, tablename="gate_device"):
    """A turnstile, hardware reader or camera client of one gate. Only the token's SHA-256 is stored."""

    gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=60)
    token_sha256 = Varchar(length=64, unique=True, index=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_seen = Timestamptz(null=True, default=None)


class Admission(Table, tablename="gate_admission"):
    """The presence of one ticket, created by its first accepted entry (unique per ticket: the row that
    makes "exactly one ok per entry" hold). Exits set `inside` false; a re-entry sets it back."""

    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, unique=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    inside = Boolean(default=True)
    entries = Integer(default=1)
    exits = Integer(default=0)
    first_entry_at = Timestamptz()
    first_gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False)
    last_scan_at = Timestamptz()
    last_gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False)


class Scan(Table, tablename="gate_scan"):
    """Every scan, accepted or rejected, online or uploaded from an offline journal.

    `nonce` (scoped by gate: "GATE:nonce") makes a retried scan idempotent; `result` is the verdict
    as answered, returned again for a retry."""

    at = Timestamptz(index=True)
    recorded_at = Timestamptz()
    gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=GateDevice, on_delete=OnDelete.restrict, null=True, default=None)
    attendant = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    direction = Varchar(length=3, default="in")
    status = Varchar(length=20, index=True)
    reason = Varchar(length=40)
    offline = Boolean(default=False)
    nonce = Varchar(length=120, null=True, default=None, unique=True)
    result = JSON(default="{}")


class GateConflict(Table, tablename="gate_conflict"):
    """A ticket admitted twice while gates were offline (or offline and online): it stays admitted and
    the supervisor sees this row."""

    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.restrict, null=False, index=True)
    session = ForeignKey(references=EventSession, on_delete=OnDelete.restrict, null=False, index=True)
    gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False)
    scan = ForeignKey(references=Scan, on_delete=OnDelete.restrict, null=False)
    at = Timestamptz()
    first_gate = ForeignKey(references=Gate, on_delete=OnDelete.restrict, null=False)
    first_entry_at = Timestamptz()
    detected_at = Timestamptz()
    resolved = Boolean(default=False)
