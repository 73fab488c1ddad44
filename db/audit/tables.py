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
    # The tamper-evident chain (db/audit/chain.py): written by the sealer only, never by the writers.
    chain_seq = Integer(null=True, default=None)
    chain_hash = Varchar(length=64, null=True, default=None)


class AuditSeal(Table, tablename="audit_seal"):
    """One row per sealing run: the chain's head after it (the last entry's position and hash), so that
    cutting entries off the end of the chain is noticed too."""

    sealed_at = Timestamptz()
    first_seq = Integer()
    last_seq = Integer(unique=True)
    last_hash = Varchar(length=64)
    entries = Integer()
