"""The foundation's operational contract (issue 2): demo data loads twice without duplicates and has
the stock the benchmarks need and a working account per role with the README's password; /healthz names
the engine and the migration state; the staff form refuses an unknown role and creates nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

from piccolo.conf.apps import Finder

from db.catalog.tables import PriceClass
from db.demo import load_demo
from db.staff.demo import DEMO_STAFF
from db.staff.permissions import Role
from db.staff.tables import StaffUser
from tests.helpers import http_client, make_staff, post_form, sign_in

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


async def row_counts() -> dict[str, int]:
    return {table._meta.tablename: await table.count() for table in Finder().get_table_classes()}


async def test_demo_loads_twice_without_duplicating_anything():
    await load_demo()
    first = await row_counts()
    await load_demo()
    assert await row_counts() == first
    assert first["venue"] >= 4 and first["event"] >= 4 and first["seat"] > 0


async def test_demo_has_the_general_admission_stock_the_benchmarks_need():
    await load_demo()
    ga = await PriceClass.select(PriceClass.capacity).where(PriceClass.seat_class == "")
    assert sum(row["capacity"] for row in ga) >= 12_000
    assert any(row["capacity"] == 1_000 for row in ga)


async def test_one_demo_account_per_role_signs_in_with_the_readme_password():
    await load_demo()
    password = re.search(r"password is `([^`]+)`", README).group(1)
    assert {role for _, _, role in DEMO_STAFF} == set(Role)
    for username, _, role in DEMO_STAFF:
        assert f"| {username} |" in README
        async with http_client() as client:
            assert (await sign_in(client, username, password)).status_code == 303, username
            assert f'data-testid="home-{role.value}"' in (await client.get("/")).text


async def test_healthz_names_the_engine_and_says_migrations_are_current():
    async with http_client() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    expected = "postgresql" if os.environ.get("TEST_DATABASE", "sqlite") == "postgres" else "sqlite"
    assert body["database"] == expected
    assert body["migrations_current"] is True and body["pending_migrations"] == 0


async def test_staff_form_refuses_an_unknown_role_and_creates_nobody():
    await make_staff(Role.ADMIN, "liuyang")
    async with http_client() as admin:
        await sign_in(admin, "liuyang")
        response = await post_form(
            admin,
            "/staff",
            {"username": "intruder", "display_name": "某人", "role": "bogus", "password": "Long-enough-1"},
        )
    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text and "未知角色：bogus" in response.text
    assert not await StaffUser.exists().where(StaffUser.username == "intruder")
