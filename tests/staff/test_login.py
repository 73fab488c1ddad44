"""Sign-in, sessions and rate limiting (R2.2, R6.3)."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.staff.tables import StaffUser
from tests.helpers import fetch_csrf, http_client, make_staff, sign_in


@pytest.fixture
async def client():
    async with http_client() as client:
        yield client


async def test_password_is_stored_as_argon2(client):
    await make_staff("seller", "lina")
    user = await StaffUser.objects().where(StaffUser.username == "lina").first()
    assert user.password_hash.startswith("$argon2id$")


async def test_sign_in_sets_a_fresh_secure_session_and_shows_home(client):
    await make_staff("seller", "lina")
    client.cookies.set("tc_session", "planted-by-attacker", domain="testserver.local")
    response = await sign_in(client, "lina")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "planted-by-attacker" not in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert 'data-testid="home-seller"' in home.text
    assert await AuditEntry.exists().where(AuditEntry.action == "staff.sign_in")


async def test_wrong_password_is_a_form_error_and_no_session(client):
    await make_staff("seller", "lina")
    response = await sign_in(client, "lina", "wrong-password")
    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_login_is_rate_limited_per_username(client):
    await make_staff("seller", "lina")
    for _ in range(5):
        assert (await sign_in(client, "lina", "nope-nope")).status_code == 422
    blocked = await sign_in(client, "lina")  # even the right password waits now
    assert blocked.status_code == 429
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_form_without_csrf_token_is_refused(client):
    await make_staff("seller", "lina")
    await fetch_csrf(client)
    response = await client.post("/login", data={"username": "lina", "password": "Correct-Horse-9"})
    assert response.status_code == 403


async def test_sign_out_ends_the_session_on_the_server(client):
    await make_staff("seller", "lina")
    await sign_in(client, "lina")
    token = client.cookies.get("tc_session")
    csrf = await fetch_csrf(client)
    await client.post("/logout", data={"_csrf_token": csrf})
    client.cookies.set("tc_session", token, domain="testserver.local")
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_session_survives_a_restart(client):
    """Sessions live in the database: a second app instance (another worker, or after a restart) knows them."""
    await make_staff("auditor", "wangfang")
    await sign_in(client, "wangfang")
    token = client.cookies.get("tc_session")
    async with http_client() as other:
        other.cookies.set("tc_session", token, domain="testserver.local")
        response = await other.get("/")
        assert response.status_code == 200 and 'data-testid="home-auditor"' in response.text


async def test_language_switch(client):
    await make_staff("seller", "lina")
    await sign_in(client, "lina")
    assert "退出" in (await client.get("/")).text
    csrf = await fetch_csrf(client)
    await client.post("/lang", data={"language": "en", "next": "/", "_csrf_token": csrf})
    assert "Sign out" in (await client.get("/")).text


async def test_unknown_address_gets_the_friendly_404_page(client):
    response = await client.get("/favicon.ico")
    assert response.status_code == 404
    assert 'data-testid="error-message"' in response.text
    assert "Traceback" not in response.text
