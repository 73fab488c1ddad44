"""Staff accounts: passwords (argon2, hashed and verified in a thread pool, never on the event loop),
sign-in with rate limiting (db/staff/throttle.py), sessions, account management (R2.2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.actor import Actor
from db.audit.record import record, utcnow
from db.errors import Conflict, InvalidInput, NotFound
from db.staff import throttle
from db.staff.permissions import Permission, Role, permissions_of
from db.staff.tables import StaffSession, StaffUser
from db.text import one_line
from db.transaction import write_transaction

SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# argon2 takes tens of milliseconds of CPU per hash (it releases the GIL): one thread per worker by default,
# so a burst of sign-ins queues there and leaves the other core to the event loop (gate scans, sales).
_password_threads = ThreadPoolExecutor(
    max_workers=int(os.environ.get("PASSWORD_THREADS", "1")), thread_name_prefix="argon2"
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


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("The password needs at least {n} characters.", field="password", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("A password has at most {n} characters.", field="password", n=MAX_PASSWORD_LENGTH)


async def sign_in(username: str, password: str, client: str) -> tuple[str, StaffPrincipal]:
    """Check the password and open a new session. Returns (session token for the cookie, principal).

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

    token = secrets.token_urlsafe(32)
    now = utcnow()
    rehashed = await hash_password(password) if _hasher.check_needs_rehash(user.password_hash) else None
    async with write_transaction(StaffUser._meta.db):
        if rehashed:
            user.password_hash = rehashed
        user.last_login_at = now
        await user.save([StaffUser.password_hash, StaffUser.last_login_at])
        await StaffSession.insert(
            StaffSession(token_hash=_token_hash(token), user=user.id, created_at=now, expires_at=now + SESSION_LIFETIME)
        ).run()
        await throttle.succeeded(username, client)
        principal = StaffPrincipal(user.id, user.username, user.display_name, user.role)
        await record(principal.actor, "staff.sign_in", "staff_user", user.id)
    return token, principal


async def principal_for_token(token: str) -> StaffPrincipal | None:
    row = (
        await StaffSession.select(
            StaffSession.user.id,
            StaffSession.user.username,
            StaffSession.user.display_name,
            StaffSession.user.role,
            StaffSession.user.active,
        )
        .where((StaffSession.token_hash == _token_hash(token)) & (StaffSession.expires_at > utcnow()))
        .first()
    )
    if row is None or not row["user.active"]:
        return None
    return StaffPrincipal(row["user.id"], row["user.username"], row["user.display_name"], row["user.role"])


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
    _validate_password(password)
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
