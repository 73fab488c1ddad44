"""Sign-in limits that hold under concurrency and cannot lock a staff member out (issue 9, defects 3 and 4):
a conditional write per attempt (of 15 simultaneous wrong passwords only 5 are checked), limits per
account and address, growing delays for an account failing from many addresses, the supervisor's unlock
(audited), and argon2 off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

from argon2 import PasswordHasher

from db.audit.tables import AuditEntry
from db.staff import accounts, throttle
from tests.helpers import PASSWORD, make_staff, sign_in
from tests.shop.support import shop_client
from web.app import create_app


async def test_fifteen_simultaneous_wrong_passwords_check_only_five():
    await make_staff("gate", "chenjie")
    app = create_app()
    clients = [shop_client(app, "198.51.100.9") for _ in range(15)]
    try:
        answers = await asyncio.gather(*(sign_in(c, "chenjie", "wrong-password") for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [422] * 5 + [429] * 10


async def test_failures_from_one_address_do_not_lock_the_account_elsewhere():
    await make_staff("gate", "chenjie")
    app = create_app()
    async with shop_client(app, "203.0.113.66") as stranger, shop_client(app, "10.0.0.21") as gate_tablet:
        for _ in range(5):
            assert (await sign_in(stranger, "chenjie", "guess-guess")).status_code == 422
        assert (await sign_in(stranger, "chenjie")).status_code == 429  # that address waits, even when right
        assert (await sign_in(gate_tablet, "chenjie")).status_code == 303  # the attendant signs in


async def test_an_account_failing_from_many_addresses_is_slowed_with_growing_delays_not_locked(monkeypatch):
    monkeypatch.setattr(throttle, "BASE_DELAY", 0.05)
    assert [throttle.account_delay(n) for n in (5, 6, 7, 8)] == [0.0, 0.05, 0.1, 0.2]
    assert throttle.account_delay(100) == throttle.MAX_DELAY
    await make_staff("gate", "chenjie")
    app = create_app()
    for i in range(7):
        async with shop_client(app, f"192.0.2.{i + 1}") as guesser:
            assert (await sign_in(guesser, "chenjie", "guess-guess")).status_code == 422
    async with shop_client(app, "10.0.0.21") as gate_tablet:
        started = time.monotonic()
        assert (await sign_in(gate_tablet, "chenjie")).status_code == 303  # the 8th attempt: 0.2 s, then in
        assert time.monotonic() - started >= 0.2
    assert throttle.account_delay(1) == 0.0  # and the success started the account's count again
    assert await throttle.limited_accounts() == []


async def test_supervisor_clears_an_accounts_limits_and_it_is_audited():
    await make_staff("gate", "chenjie")
    await make_staff("supervisor", "zhangwei")
    app = create_app()
    async with shop_client(app, "203.0.113.66") as tablet:
        for _ in range(5):
            await sign_in(tablet, "chenjie", "typo-typo")
        assert (await sign_in(tablet, "chenjie")).status_code == 429
        async with shop_client(app, "10.0.0.2") as supervisor:
            assert (await sign_in(supervisor, "zhangwei")).status_code == 303
            page = await supervisor.get("/staff/sign-in-limits")
            assert page.status_code == 200 and 'data-testid="unlock-chenjie"' in page.text
            from tests.helpers import post_form

            cleared = await post_form(supervisor, "/staff/sign-in-limits/unlock", {"username": "chenjie"})
            assert cleared.status_code == 200 and 'data-testid="no-limits"' in cleared.text
        assert (await sign_in(tablet, "chenjie")).status_code == 303
    entry = await AuditEntry.select().where(AuditEntry.action == "staff.sign_in_unlock").first()
    assert entry["actor_name"] == "zhangwei" and entry["object_id"] == "chenjie"


async def test_a_seller_may_not_clear_limits():
    await make_staff("seller", "lina")
    async with shop_client(address="10.0.0.3") as seller:
        await sign_in(seller, "lina")
        assert (await seller.get("/staff/sign-in-limits")).status_code == 403


class _RecordingHasher(PasswordHasher):
    threads: list[str] = []

    def hash(self, password, **kwargs):
        self.threads.append(threading.current_thread().name)
        return super().hash(password, **kwargs)

    def verify(self, hash, password):
        self.threads.append(threading.current_thread().name)
        return super().verify(hash, password)


async def test_passwords_are_hashed_and_verified_off_the_event_loop(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", _RecordingHasher())
    await make_staff("gate", "chenjie")
    async with shop_client(address="10.0.0.4") as client:
        assert (await sign_in(client, "chenjie", PASSWORD)).status_code == 303
        assert (await sign_in(client, "nobody", PASSWORD)).status_code == 422
    assert len(_RecordingHasher.threads) >= 3  # create, verify, verify against the dummy hash
    assert all(name.startswith("argon2") for name in _RecordingHasher.threads), _RecordingHasher.threads
