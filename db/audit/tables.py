from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_name = Varchar(length=100)
    actor_role = Varchar(length=20, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=40, index=True)
    object_id = Varchar(length=64, default="")
    summary = Text(default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
