"""The password policy for staff accounts (issue 14, R6.3): long enough, of mixed kinds, not the account's
own name, not a well-known password. A pure rule; accounts.py applies it to every new password."""

from __future__ import annotations

from db.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
LONG_ENOUGH_ALONE = 16  # a passphrase this long needs no mix of kinds
COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "1qaz2wsx3edc",
        "abc123456789",
        "iloveyou1234",
        "admin12345",
        "administrator",
        "woaini1314520",
        "ticketcenter",
        "88888888888",
        "00000000000",
    }
)


def _kinds(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check(password: str, username: str = "") -> None:
    """InvalidInput (field "password") naming the first rule `password` breaks."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("The password needs at least {n} characters.", field="password", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise InvalidInput("A password has at most {n} characters.", field="password", n=MAX_LENGTH)
    if password.lower() in COMMON or len(set(password)) <= 2:
        raise InvalidInput("This password is too easy to guess. Choose another.", field="password")
    if username and len(username) >= 3 and username.lower() in password.lower():
        raise InvalidInput("The password must not contain the username.", field="password")
    if len(password) < LONG_ENOUGH_ALONE and _kinds(password) < 3:
        raise InvalidInput(
            "Mix at least three of: lower-case letters, capitals, digits, symbols (or use 16 characters or more).",
            field="password",
        )
