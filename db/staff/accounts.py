"""Staff accounts: passwords (argon2, hashed and verified in a thread pool, never on the event loop; the
policy in db/staff/password_policy.py), sign-in with rate limiting (db/staff/throttle.py) and the second
factor (db/staff/two_factor.py), sessions that end after IDLE_TIMEOUT without use, account management (R2.2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.text import one_line
from db.core.transaction import write_transaction
from db.staff import password_policy, throttle, two_factor
from db.staff.permissions import Permission, Role, permissions_of
from db.staff.tables import StaffSession, StaffUser

SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(minutes=float(os.environ.get("STAFF_IDLE_MINUTES", "30")))
SEEN_GRANULARITY = dt.timedelta(seconds=60)  # a session's last use is written at most once a minute
MAX_PASSWORD_LENGTH = password_policy.MAX_LENGTH

# One lane (argon2-cffi's default is 4 threads per hash): with 4, a burst of sign-ins filled both cores of a small
# box-office server and gate redeem p99 rose to 64-66 ms; with 1 it stays at 30-36 ms (bench/login_burst.py).
# Hashes made with other parameters keep verifying: they carry their own.
_hasher = PasswordHasher(parallelism=1)
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _lowest_cpu_priority() -> None:
    """Linux: the hashing thread (and the lane threads argon2 starts from it) runs at nice 19, so when a
    burst of sign-ins competes with the event loop for the CPU, the loop (gate scans, sales) wins."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


# argon2 takes tens of milliseconds of CPU per hash (it releases the GIL): one thread per worker by default,
# so a burst of sign-ins queues there, at the lowest CPU priority, instead of stalling the event loop.
_password_threads = ThreadPoolExecutor(
    max_workers=int(os.environ.get("PASSWORD_THREADS", "1")),
    thread_name_prefix="argon2",
    initializer=_lowest_cpu_priority,
)


async def _in_password_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_password_threads, function, *args)


async def hash_password(password: str) -> str:
    return await _in_password_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    return await _in_password_thread(_verify, password_hash, password)


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """The signed-in staff member, as handlers and templates see them."""

    id: int
    username: str
    display_name: str
    role: str
    must_enrol: bool = False  # the role requires a second factor this account has not set up yet

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.role)

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.id, name=self.username, role=self.role)


class TooManyAttempts(InvalidInput):
    status_code = 429


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _validate_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput("Unknown role: {role}", field="role", role=role) from None


def _validate_password(password: str, username: str = "") -> None:
    password_policy.check(password, username)


async def sign_in(username: str, password: str, client: str, one_time_code: str = "") -> tuple[str, StaffPrincipal]:
    """Check the password (and the one-time code, when the account has a second factor) and open a new
    session. Returns (session token for the cookie, principal).

    Every successful sign-in gets a brand-new token, so a session id planted before login is useless.
    The attempt takes its place in the limits before the password is checked (db/staff/throttle.py)."""
    username = username.strip()[:64]
    admission = await throttle.admit(username, client)
    if not admission.allowed:
        minutes = int(throttle.WINDOW.total_seconds() // 60)
        raise TooManyAttempts("Too many failed sign-ins. Wait {minutes} minutes and try again.", minutes=minutes)
    if admission.delay:  # an account failing from many addresses: slowed, never locked for its owner
        await asyncio.sleep(admission.delay)

    user = await StaffUser.objects().where(StaffUser.username == username).first()
    password = password[: MAX_PASSWORD_LENGTH + 1]  # a longer one is wrong anyway; never hash megabytes
    ok = await verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if not ok or not user.active:
        raise InvalidInput("Wrong username or password.", field="password")
    if user.totp_confirmed_at is not None:
        await two_factor.check(user.id, one_time_code)  # a wrong code counts as a failed sign-in

    token = secrets.token_urlsafe(32)
    now = utcnow()
    rehashed = await hash_password(password) if _hasher.check_needs_rehash(user.password_hash) else None
    async with write_transaction(StaffUser._meta.db):
        if rehashed:
            user.password_hash = rehashed
        user.last_login_at = now
        await user.save([StaffUser.password_hash, StaffUser.last_login_at])
        await StaffSession.insert(
            StaffSession(
                token_hash=_token_hash(token),
                user=user.id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                last_seen_at=now,
            )
        ).run()
        await throttle.succeeded(username, client)
        principal = StaffPrincipal(
            user.id, user.username, user.display_name, user.role, _must_enrol(user.role, user.totp_confirmed_at)
        )
        await record(principal.actor, "staff.sign_in", "staff_user", user.id)
    return token, principal


def _must_enrol(role: str, totp_confirmed_at: dt.datetime | None) -> bool:
    return totp_confirmed_at is None and role in two_factor.required_roles()


async def principal_for_token(token: str, now: dt.datetime | None = None) -> StaffPrincipal | None:
    """The staff member of a session that has neither expired nor been idle for IDLE_TIMEOUT; using it
    keeps it alive (its last use is written at most once a minute)."""
    now = now or utcnow()
    token_hash = _token_hash(token)
    row = (
        await StaffSession.select(
            StaffSession.last_seen_at,
            StaffSession.created_at,
            StaffSession.user.id,
            StaffSession.user.username,
            StaffSession.user.display_name,
            StaffSession.user.role,
            StaffSession.user.active,
            StaffSession.user.totp_confirmed_at,
        )
        .where((StaffSession.token_hash == token_hash) & (StaffSession.expires_at > now))
        .first()
    )
    if row is None or not row["user.active"]:
        return None
    seen = row["last_seen_at"] or row["created_at"]
    if now - seen > IDLE_TIMEOUT:
        await StaffSession.delete().where(StaffSession.token_hash == token_hash)
        return None
    if now - seen > SEEN_GRANULARITY:
        await StaffSession.update({StaffSession.last_seen_at: now}).where(StaffSession.token_hash == token_hash)
    return StaffPrincipal(
        row["user.id"],
        row["user.username"],
        row["user.display_name"],
        row["user.role"],
        _must_enrol(row["user.role"], row["user.totp_confirmed_at"]),
    )


async def sign_out(token: str) -> None:
    await StaffSession.delete().where(StaffSession.token_hash == _token_hash(token))


async def list_staff() -> list[dict]:
    return await StaffUser.select(
        StaffUser.id,
        StaffUser.username,
        StaffUser.display_name,
        StaffUser.role,
        StaffUser.active,
        StaffUser.last_login_at,
    ).order_by(StaffUser.username)


async def create_staff(actor: Actor, username: str, display_name: str, role: str, password: str) -> int:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("A username is 1-64 letters, digits, dots or underscores.", field="username")
    if not display_name.strip():
        raise InvalidInput("Enter the staff member's name.", field="display_name")
    one_line(display_name, "display_name")
    _validate_role(role)
    _validate_password(password, username)
    password_hash = await hash_password(password)
    async with write_transaction(StaffUser._meta.db):
        if await StaffUser.exists().where(StaffUser.username == username):
            raise Conflict("The username {username} is taken.", field="username", username=username)
        rows = await StaffUser.insert(
            StaffUser(
                username=username,
                display_name=display_name.strip(),
                role=role,
                password_hash=password_hash,
                created_at=utcnow(),
            )
        ).returning(StaffUser.id)
        user_id = rows[0]["id"]
        await record(actor, "staff.create", "staff_user", user_id, after={"username": username, "role": role})
    return user_id


async def update_staff(actor: Actor, user_id: int, *, role: str, active: bool, password: str = "") -> None:
    """Change a staff member's role or access (a permission change: audited with before and after)."""
    _validate_role(role)
    if password:
        _validate_password(password)
    password_hash = await hash_password(password) if password else None
    async with write_transaction(StaffUser._meta.db):
        user = await StaffUser.objects().where(StaffUser.id == user_id).first()
        if user is None:
            raise NotFound("No such staff member.")
        if user.id == actor.user_id and (role != user.role or not active):
            raise InvalidInput("You cannot change your own role or lock yourself out.", field="role")
        before = {"role": user.role, "active": user.active}
        user.role, user.active = role, active
        columns = [StaffUser.role, StaffUser.active]
        if password_hash:
            user.password_hash = password_hash
            columns.append(StaffUser.password_hash)
        await user.save(columns)
        if not active or before["role"] != role:
            await StaffSession.delete().where(StaffSession.user == user.id)
        await record(
            actor,
            "staff.update",
            "staff_user",
            user.id,
            before=before,
            after={"role": role, "active": active, "password_changed": bool(password)},
        )
