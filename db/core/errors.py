"""Typed domain errors. Every operation raises one of these for input it refuses; web/ maps them to a
form error on the page or an RFC 9457 problem body in the API."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. `message` is shown to the user (English msgid, translated in web/)."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The data changed under the request: sold out, seat taken, already paid..."""

    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


def unique_violation(exc: BaseException) -> bool:
    """A concurrent insert won the race for a unique key (the check before it saw nothing), on either engine."""
    import sqlite3

    from asyncpg.exceptions import UniqueViolationError

    return isinstance(exc, (sqlite3.IntegrityError, UniqueViolationError))
