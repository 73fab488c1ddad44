from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Reveal(Table, tablename="privacy_reveal"):
    """One customer field shown in full to one staff member, with the purpose they gave (R6.3)."""

    at = Timestamptz(index=True)
    staff_id = Integer(null=True, default=None, index=True)
    staff_name = Varchar(length=100, index=True)
    staff_role = Varchar(length=20, default="")
    order_code = Varchar(length=16, index=True)
    customer = Varchar(length=100)  # the buyer's name as the order has it
    field = Varchar(length=20)
    purpose = Text()


class DataUseRequest(Table, tablename="privacy_data_use"):
    """A use of customer data outside routine work (an export of buyers, a mailing list): requested,
    approved or rejected by the supervisor, valid until a set time; every download is logged."""

    export = Varchar(length=40)
    session_id = Integer(null=True, default=None)
    purpose = Text()
    requested_by_id = Integer(null=True, default=None)
    requested_by = Varchar(length=100)
    requested_at = Timestamptz()
    status = Varchar(length=12, index=True)  # pending | approved | rejected
    decided_by = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    valid_until = Timestamptz(null=True, default=None)


class DataUseDownload(Table, tablename="privacy_data_use_download"):
    request = Integer(index=True)
    at = Timestamptz()
    staff_id = Integer(null=True, default=None)
    staff_name = Varchar(length=100)
    rows = Integer()
    format = Varchar(length=10)


class RetentionPolicy(Table, tablename="privacy_retention"):
    """How long customer details are kept after a session ends (one row: the latest one applies)."""

    keep_days = Integer()
    set_at = Timestamptz()
    set_by = Varchar(length=100)
