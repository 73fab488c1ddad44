"""Login hardening of issue 14 (R6.3): the password policy, two-step sign-in with a real TOTP code (pyotp),
each code accepted once, roles that must use it, and sessions that end after the idle timeout."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest

from db.audit.tables import AuditEntry
from db.core.errors import InvalidInput
from db.staff import accounts, password_policy
from db.staff.tables import StaffSession
from tests.helpers import PASSWORD, fetch_csrf, http_client, make_staff, post_form


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short-1", "at least {n}"),
        ("password123", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("lowercase-only", "three of"),
        ("zhangwei-2026!", "username"),
    ],
)
def test_the_password_policy_refuses_weak_passwords(password, why):
    with pytest.raises(InvalidInput) as refused:
        password_policy.check(password, "zhangwei")
    assert why in refused.value.message and refused.value.field == "password"


def test_the_password_policy_accepts_mixed_or_long_ones():
    for password in ("Correct-Horse-9", "Demo-2026!", "a long quiet passphrase of words"):
        password_policy.check(password, "zhangwei")


async def test_creating_staff_with_a_weak_password_is_a_form_error():
    with pytest.raises(InvalidInput):
        await accounts.create_staff(accounts.Actor.system("t"), "weak1", "弱", "seller", "abcdefghij")


async def _login(client, username: str, code: str = ""):
    token = await fetch_csrf(client)
    return await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "one_time_code": code, "_csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


async def _enrol(client) -> pyotp.TOTP:
    begun = await post_form(client, "/account/two-factor/begin")
    assert begun.status_code == 200 and 'data-testid="totp-qr"' in begun.text and "<svg" in begun.text
    assert begun.headers["cache-control"] == "no-store"
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', begun.text).group(1)
    totp = pyotp.TOTP(secret)
    wrong = await post_form(client, "/account/two-factor/confirm", {"one_time_code": "000000"})
    assert wrong.status_code == 422 and 'data-testid="form-error"' in wrong.text
    done = await post_form(client, "/account/two-factor/confirm", {"one_time_code": totp.now()}, follow_redirects=False)
    assert done.status_code == 303
    return totp


async def test_two_step_sign_in_with_a_real_code_each_code_once():
    await make_staff("supervisor", "zhangwei")
    async with http_client() as client:
        assert (await _login(client, "zhangwei")).status_code == 303
        totp = await _enrol(client)
        assert 'data-testid="two-factor-on"' in (await client.get("/account/two-factor")).text
    async with http_client() as client:
        asked = await _login(client, "zhangwei")
        assert asked.status_code == 422 and "身份验证器" in asked.text and "session" not in asked.cookies
        code = totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))  # the set-up used the current step
        assert (await _login(client, "zhangwei", "123456" if code != "123456" else "654321")).status_code == 422
        signed_in = await _login(client, "zhangwei", code)
        assert signed_in.status_code == 303
        assert (await client.get("/auditlog")).status_code == 200
    async with http_client() as again:
        used = await _login(again, "zhangwei", totp.now())  # the set-up already used this step's code
        assert used.status_code == 422
    async with http_client() as thief:  # the same code, replayed (the step was already used)
        replay = await _login(thief, "zhangwei", code)
        assert replay.status_code == 422 and "已被使用" in replay.text
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert "staff.totp_on" in actions


async def test_roles_that_must_use_two_steps_reach_only_the_set_up_page_until_they_do(monkeypatch):
    monkeypatch.setenv("TOTP_REQUIRED_ROLES", "supervisor,admin")
    await make_staff("supervisor", "zhangwei")
    await make_staff("seller", "lina")
    async with http_client() as seller:
        assert (await _login(seller, "lina")).headers["location"] == "/"  # sellers are not required
    async with http_client() as client:
        signed_in = await _login(client, "zhangwei")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/two-factor"
        blocked = await client.get("/auditlog", follow_redirects=False)
        assert blocked.status_code == 303 and blocked.headers["location"] == "/account/two-factor"
        page = await client.get("/account/two-factor")
        assert 'data-testid="two-factor-required"' in page.text
        await _enrol(client)
        assert (await client.get("/auditlog")).status_code == 200


async def test_a_session_ends_after_the_idle_timeout_and_use_keeps_it_alive():
    await make_staff("seller", "lina")
    token, _ = await accounts.sign_in("lina", PASSWORD, "127.0.0.1")
    start = dt.datetime.now(dt.UTC)
    step = accounts.IDLE_TIMEOUT - dt.timedelta(minutes=1)
    assert await accounts.principal_for_token(token, now=start + step) is not None  # used: seen again
    assert await accounts.principal_for_token(token, now=start + 2 * step) is not None
    assert await accounts.principal_for_token(token, now=start + 3 * step + accounts.IDLE_TIMEOUT) is None
    assert await StaffSession.count() == 0  # the idle session is gone
