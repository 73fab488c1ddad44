"""The reports' own tables (issue 12 part A): export jobs with their progress, report schedules, and the
risk rules with the alerts they raised (R6.2, R8.4). Sales figures themselves are read from the ledger and
the sales tables; nothing here copies money."""

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from db.staff.tables import StaffUser


class ExportJob(Table, tablename="reports_export"):
    """One export of a report to a file, prepared in the background: progress in rows, then the file."""

    token = Varchar(length=40, unique=True)  # the random name in the export's URL
    report = Varchar(length=40)
    params = JSON(default="{}")  # the report's filters as the page had them
    format = Varchar(length=8)  # csv | xlsx
    status = Varchar(length=12, default="running")  # running | done | failed
    rows_total = Integer(default=0)
    rows_done = Integer(default=0)
    path = Text(default="")
    file_name = Varchar(length=120, default="")
    error = Text(default="")
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class ReportSchedule(Table, tablename="reports_schedule"):
    """A report e-mailed as XLSX every day or every week (at `hour` venue time) to a list of staff."""

    name = Varchar(length=80)
    report = Varchar(length=40)
    params = JSON(default="{}")  # filters; the period is the last day (daily) or the last 7 days (weekly)
    frequency = Varchar(length=8)  # daily | weekly
    weekday = Integer(default=0)  # 0 = Monday, for weekly schedules
    hour = Integer(default=7)
    recipients = JSON(default="[]")  # [{"staff_id", "name", "email"}]
    active = Boolean(default=True)
    next_run_at = Timestamptz()
    last_run_at = Timestamptz(null=True, default=None)
    last_outcome = Text(default="")
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()


class RiskRule(Table, tablename="reports_risk_rule"):
    """An anomaly watched for (R8.4) with its threshold: the rule's code names the check in db/reports/risk.py."""

    code = Varchar(length=30, unique=True)
    threshold = Integer()  # percent, or fen for a money tolerance (see risk.RULES)
    min_count = Integer(default=5)  # the fewest cases before a rate means anything
    window_minutes = Integer(default=60)
    active = Boolean(default=True)
    notify = Text(default="")  # e-mail addresses, comma separated
    updated_by_name = Varchar(length=100, default="")
    updated_at = Timestamptz()


class RiskAlert(Table, tablename="reports_risk_alert"):
    """One anomaly found. Raised once per rule, subject and window (`key`); acknowledged with a note, never
    deleted."""

    key = Varchar(length=160, unique=True)
    rule = Varchar(length=30, index=True)
    subject = Varchar(length=120)  # what it is about: an event, a seller, a refund
    value = Integer(default=0)  # the measured rate (percent) or amount (fen)
    detail = JSON(default="{}")
    raised_at = Timestamptz(index=True)
    emailed_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by_name = Varchar(length=100, default="")
    note = Text(default="")


class SalesFact(Table, tablename="reports_sales_fact"):
    """The sales reports' summary of the money ledger (db/reports/summary.py): the sums of its revenue
    entries per venue-time day, session, channel, outlet or partner, seller and payment method. Derived only:
    rebuilt from the ledger at any time; a unique index over the key columns (raw SQL migration)."""

    day = Varchar(length=10)  # the entry's venue-time date, YYYY-MM-DD
    session = Integer(index=True)
    channel = Varchar(length=20)
    outlet = Varchar(length=60, default="")
    seller = Varchar(length=100, default="")
    method = Varchar(length=20, default="")
    entries = Integer(default=0)  # ledger entries summed (the hourly check counts them again)
    orders = Integer(default=0)
    gross = BigInt(default=0)
    refunded = BigInt(default=0)
    fees_kept = BigInt(default=0)
    net = BigInt(default=0)


class SalesWatermark(Table, tablename="reports_sales_watermark"):
    """The last ledger entry summed into reports_sales_fact (one row)."""

    last_entry = Integer(default=0)
    updated_at = Timestamptz()
