"""Staff accounts: passwords (argon2), sign-in with rate limiting, sessions, account management (R2.2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.actor import Actor
from db.audit.record import record, utcnow
from db.errors import Conflict, InvalidInput, NotFound
from db.staff.permissions import Permission, Role, permissions_of
from db.staff.tables import LoginAttempt, StaffSession, StaffUser
from db.transaction import write_transaction

SESSION_LIFETIME = dt.timedelta(hours=12)
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


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


async def sign_in(username: str, password: str, client: str) -> tuple[str, StaffPrincipal]:
    """Check the password and open a new session. Returns (session token for the cookie, principal).

    Every successful sign-in gets a brand-new token, so a session id planted before login is useless."""
    username = username.strip()
    since = utcnow() - LOCKOUT_WINDOW
    failures_user = await LoginAttempt.count().where((LoginAttempt.username == username) & (LoginAttempt.at >= since))
    failures_client = await LoginAttempt.count().where((LoginAttempt.client == client) & (LoginAttempt.at >= since))
    if failures_user >= MAX_FAILURES_PER_USER or failures_client >= MAX_FAILURES_PER_CLIENT:
        raise TooManyAttempts("Too many failed sign-ins. Wait {minutes} minutes and try again.", minutes=15)

    user = await StaffUser.objects().where(StaffUser.username == username).first()
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or not user.active:
        await LoginAttempt.insert(LoginAttempt(username=username[:64], client=client[:64], at=utcnow())).run()
        raise InvalidInput("Wrong username or password.", field="password")

    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with write_transaction(StaffUser._meta.db):
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = now
        await user.save([StaffUser.password_hash, StaffUser.last_login_at])
        await StaffSession.insert(
            StaffSession(token_hash=_token_hash(token), user=user.id, created_at=now, expires_at=now + SESSION_LIFETIME)
        ).run()
        await LoginAttempt.delete().where(LoginAttempt.username == username)
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
    _validate_role(role)
    _validate_password(password)
    async with write_transaction(StaffUser._meta.db):
        if await StaffUser.exists().where(StaffUser.username == username):
            raise Conflict("The username {username} is taken.", field="username", username=username)
        rows = await StaffUser.insert(
            StaffUser(
                username=username,
                display_name=display_name.strip(),
                role=role,
                password_hash=hash_password(password),
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
    async with write_transaction(StaffUser._meta.db):
        user = await StaffUser.objects().where(StaffUser.id == user_id).first()
        if user is None:
            raise NotFound("No such staff member.")
        if user.id == actor.user_id and (role != user.role or not active):
            raise InvalidInput("You cannot change your own role or lock yourself out.", field="role")
        before = {"role": user.role, "active": user.active}
        user.role, user.active = role, active
        columns = [StaffUser.role, StaffUser.active]
        if password:
            user.password_hash = hash_password(password)
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
