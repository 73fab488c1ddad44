from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class StaffUser(Table, tablename="staff_user"):
    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255)
    role = Varchar(length=20)
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
    # the second factor (db/staff/two_factor.py): the encrypted TOTP secret, when it was confirmed, and the
    # time step of the last code accepted (each code works once)
    totp_secret = Text(null=True, default=None)
    totp_confirmed_at = Timestamptz(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)


class StaffSession(Table, tablename="staff_session"):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, null=False)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    last_seen_at = Timestamptz(null=True, default=None)  # the idle timeout (accounts.IDLE_TIMEOUT) counts from here
    language = Varchar(length=10, default="zh_CN")


class LoginThrottle(Table, tablename="staff_login_throttle"):
    """Sign-in attempts counted per key in the current window (db/staff/throttle.py): "pair:<user>|<address>",
    "client:<address>", "account:<user>"; `username` names the account a row limits (None for an address)."""

    key = Varchar(length=200, primary_key=True)
    username = Varchar(length=64, null=True, default=None, index=True)
    attempts = Integer(default=0)
    window_started_at = Timestamptz()
