"""Typed domain errors. Every operation raises one of these for input it refuses; web/ maps them to a
form error on the page or an RFC 9457 problem body in the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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


class InvalidInputs(InvalidInput):
    """Every refusal of one form at once (issue 15): the first one is the message, `errors` lists them all."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__(errors[0].message, field=errors[0].field, **errors[0].params)
        self.errors = errors


class Refusals:
    """Collects a form's refusals so that the person sees them all, not one per try:
    `refusals.refuse(...)` or `with refusals.collect(): check(...)`, then `refusals.raise_any()`."""

    def __init__(self) -> None:
        self.errors: list[InvalidInput] = []

    def refuse(self, message: str, *, field: str, **params: object) -> None:
        self.errors.append(InvalidInput(message, field=field, **params))

    @contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except InvalidInputs as exc:
            self.errors.extend(exc.errors)
        except InvalidInput as exc:
            self.errors.append(exc)

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidInputs(self.errors)


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
