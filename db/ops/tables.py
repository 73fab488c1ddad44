from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Backup(Table, tablename="ops_backup"):
    """A backup file made by db/ops/backup.py and what its last verification found (the file and its
    manifest live in the backup folder; this row is what the administrator's page reads)."""

    file = Varchar(length=200, unique=True)
    engine = Varchar(length=20)
    made_at = Timestamptz()
    size_bytes = Integer()
    sha256 = Varchar(length=64)
    verified_at = Timestamptz(null=True, default=None)
    verified_ok = Boolean(null=True, default=None)
    verify_message = Text(default="")


class Job(Table, tablename="ops_job"):
    """A periodic job of the service that must run in one worker at a time (the backup): who holds it since
    when, and how its last run ended."""

    name = Varchar(length=40, unique=True)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    outcome = Text(default="")
