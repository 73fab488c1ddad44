"""The plumbing's own table: attempts counted by the rate limits (db/core/throttle.py)."""

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table


class RateAttempt(Table, tablename="rate_attempt"):
    """One attempt at a rate-limited action: by whom (a client pseudonym, never an address) on what key."""

    action = Varchar(length=64)
    client = Varchar(length=100)
    key = Varchar(length=64, default="")
    at = Timestamptz(index=True)
