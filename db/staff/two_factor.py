"""The second factor at sign-in (issue 14, R6.3): a time-based one-time code (TOTP, RFC 6238, pyotp) from an
authenticator app. A staff member turns it on by scanning the secret and entering a first code; from then on
sign-in needs a current code, each code accepted once. Roles listed in TOTP_REQUIRED_ROLES (for example
"supervisor,admin") must turn it on: until they do, their session reaches only the set-up page.

The secret is stored encrypted (Fernet, key TOTP_KEY else var/totp.key): a copy of the database alone does
not yield the codes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from functools import cache

import pyotp
from cryptography.fernet import Fernet

from db.audit.record import record
from db.core.actor import Actor
from db.core.engine import secret
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import write_transaction
from db.staff.tables import StaffUser

ISSUER = "票务中心 Ticket Center"
STEP_SECONDS = 30


def required_roles() -> frozenset[str]:
    return frozenset(r.strip() for r in os.environ.get("TOTP_REQUIRED_ROLES", "").split(",") if r.strip())


@cache
def _fernet() -> Fernet:
    key = hashlib.sha256(secret("TOTP_KEY", "totp.key").encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _totp(encrypted: str) -> pyotp.TOTP:
    return pyotp.TOTP(_fernet().decrypt(encrypted.encode()).decode(), interval=STEP_SECONDS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def begin(actor: Actor) -> str:
    """A new secret for `actor` (replacing one not yet confirmed); the otpauth:// URI for the app's QR code."""
    user = (
        await StaffUser.select(StaffUser.username, StaffUser.totp_confirmed_at)
        .where(StaffUser.id == actor.user_id)
        .first()
    )
    if user is None:
        raise NotFound("No such staff member.")
    if user["totp_confirmed_at"] is not None:
        raise Conflict("Two-step sign-in is already on for this account.")
    plain = pyotp.random_base32()
    encrypted = _fernet().encrypt(plain.encode()).decode()
    await StaffUser.update({StaffUser.totp_secret: encrypted, StaffUser.totp_last_step: None}).where(
        StaffUser.id == actor.user_id
    )
    return pyotp.TOTP(plain, interval=STEP_SECONDS).provisioning_uri(name=user["username"], issuer_name=ISSUER)


async def _accept(user_id: int, encrypted: str, code: str, now: dt.datetime) -> bool:
    """True when `code` is the current (or the neighbouring) code and was not accepted before: the step it
    belongs to is recorded with a conditional UPDATE, so the same code works once even when sent twice at once."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = _totp(encrypted)
    for offset in (0, -1, 1):
        at = now + dt.timedelta(seconds=offset * STEP_SECONDS)
        if totp.at(at) == code:
            step = totp.timecode(at)
            taken = await StaffUser.raw(
                "UPDATE staff_user SET totp_last_step = {} WHERE id = {} AND "
                "(totp_last_step IS NULL OR totp_last_step < {}) RETURNING id",
                step,
                user_id,
                step,
            ).run()
            return bool(taken)
    return False


async def confirm(actor: Actor, code: str, now: dt.datetime | None = None) -> None:
    """Turn two-step sign-in on with the first code the app shows."""
    now = now or _now()
    user = (
        await StaffUser.select(StaffUser.totp_secret, StaffUser.totp_confirmed_at)
        .where(StaffUser.id == actor.user_id)
        .first()
    )
    if user is None or not user["totp_secret"]:
        raise Conflict("Start the set-up again: scan the new code first.")
    if user["totp_confirmed_at"] is not None:
        raise Conflict("Two-step sign-in is already on for this account.")
    if not await _accept(actor.user_id, user["totp_secret"], code, now):
        raise InvalidInput("That code is wrong or was already used. Enter the current code.", field="one_time_code")
    async with write_transaction(StaffUser._meta.db):
        await StaffUser.update({StaffUser.totp_confirmed_at: now}).where(StaffUser.id == actor.user_id)
        await record(actor, "staff.totp_on", "staff_user", actor.user_id)


async def check(user_id: int, code: str, now: dt.datetime | None = None) -> None:
    """At sign-in: InvalidInput unless `code` is a current, unused code of the user's confirmed secret."""
    user = await StaffUser.select(StaffUser.totp_secret).where(StaffUser.id == user_id).first()
    if not code.strip():
        raise InvalidInput("Enter the 6-digit code from your authenticator app.", field="one_time_code")
    if user is None or not await _accept(user_id, user["totp_secret"], code, now or _now()):
        raise InvalidInput("That code is wrong or was already used. Enter the current code.", field="one_time_code")


async def turn_off(actor: Actor, user_id: int) -> None:
    """Remove the second factor (the staff member themselves, or an administrator for a lost phone)."""
    async with write_transaction(StaffUser._meta.db):
        await StaffUser.update(
            {StaffUser.totp_secret: None, StaffUser.totp_confirmed_at: None, StaffUser.totp_last_step: None}
        ).where(StaffUser.id == user_id)
        await record(actor, "staff.totp_off", "staff_user", user_id)
