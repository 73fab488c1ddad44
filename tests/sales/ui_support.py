"""Shared by the box-office UI tests (tests/sales/test_ui_*.py): signed-in staff clients and HTMX headers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from db.staff.permissions import Role
from tests.helpers import http_client, make_staff, sign_in

HX = {"HX-Request": "true"}


@asynccontextmanager
async def staff_client(role: Role, username: str):
    """A client signed in as a new staff member of `role`."""
    await make_staff(role, username)
    async with http_client() as client:
        await sign_in(client, username)
        yield client
