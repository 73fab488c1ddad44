"""Order lookup and the shop's protections (R6.2, R6.3): code + phone or e-mail, the same answer for a
wrong contact and an unknown code, rate limits per client and per code held in the database, access
kept in a signed HttpOnly cookie, no customer data in URLs or logs, nobody opens another's order."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import pytest

from db.audit.tables import AuditEntry
from tests.helpers import post_form
from tests.shop.support import BUYER_FORM, hold, order_code, pay_through_checkout, sales_catalog, shop_client
from web.shop.grants import GRANT_COOKIE


async def _bought(ids, address="203.0.113.50", **buyer) -> str:
    async with shop_client(address=address) as client:
        code = order_code(await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1", **buyer}))
        await pay_through_checkout(client, code)
    return code


async def _lookup(client, code, contact):
    return await post_form(client, "/shop/lookup", {"code": code, "contact": contact})


async def test_lookup_by_phone_or_email_opens_the_order_with_history_and_tickets():
    ids = await sales_catalog()
    code = await _bought(ids)
    async with shop_client(address="203.0.113.60") as phone_user, shop_client(address="203.0.113.61") as mail_user:
        denied = await phone_user.get(f"/shop/orders/{code}")
        by_phone = await _lookup(phone_user, code.lower(), "+86 138-0013-8000")
        page = await phone_user.get(f"/shop/orders/{code}")
        pdf = await phone_user.get(f"/shop/orders/{code}/tickets.pdf")
        by_mail = await _lookup(mail_user, code, "XiaoMing@Example.CN")
    assert 'data-testid="lookup-form"' in denied.text and "王小明" not in denied.text
    assert by_phone.status_code == 303 and by_phone.headers["location"] == f"/shop/orders/{code}"
    cookie = by_phone.headers["set-cookie"]
    assert (
        cookie.startswith(f"{GRANT_COOKIE}=")
        and "HttpOnly" in cookie
        and "Secure" in cookie
        and "Max-Age=1800" in cookie
    )
    assert "13800138000" not in cookie and "example" not in cookie
    assert (
        'data-status="paid"' in page.text
        and 'data-testid="history"' in page.text
        and 'data-testid="refund-cost"' in page.text
    )
    assert pdf.content.startswith(b"%PDF")
    assert by_mail.status_code == 303
    assert await AuditEntry.count().where((AuditEntry.action == "shop.lookup") & (AuditEntry.object_id == code)) == 2


async def test_wrong_contact_and_unknown_code_get_the_same_answer():
    ids = await sales_catalog()
    code = await _bought(ids)
    unknown = "ZZZZZZZZZZ"
    async with shop_client(address="203.0.113.70") as client:
        wrong = await _lookup(client, code, "13900000000")
        missing = await _lookup(client, unknown, "13900000000")
        after = await client.get(f"/shop/orders/{code}")
    assert wrong.status_code == missing.status_code == 422
    assert wrong.text.replace(code, "CODE") == missing.text.replace(unknown, "CODE")
    assert GRANT_COOKIE not in wrong.headers.get("set-cookie", "")
    assert 'data-testid="lookup-form"' in after.text


async def test_lookups_are_rate_limited_per_order_code_across_clients():
    ids = await sales_catalog()
    code = await _bought(ids)
    answers = []
    for i in range(5):
        async with shop_client(address=f"198.18.0.{i + 1}") as client:
            answers.append((await _lookup(client, code, f"1390000000{i}")).status_code)
    async with shop_client(address="198.18.1.1") as owner:
        blocked = await _lookup(owner, code, BUYER_FORM["phone"])  # even the right phone waits now
    assert answers == [422] * 5
    assert blocked.status_code == 429 and 'data-testid="form-error"' in blocked.text


async def test_lookups_are_rate_limited_per_client_and_unknown_codes_count_too():
    await sales_catalog()
    async with shop_client(address="198.19.0.1") as client:
        answers = [(await _lookup(client, f"NOPE{i:06d}", "13900000000")).status_code for i in range(11)]
    assert answers == [422] * 10 + [429]


async def test_concurrent_wrong_guesses_get_at_most_the_limit_through():
    ids = await sales_catalog()
    code = await _bought(ids)
    clients = [shop_client(address=f"198.20.0.{i}") for i in range(1, 21)]
    try:
        answers = await asyncio.gather(*(_lookup(c, code, f"1380000{i:04d}") for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    codes = [a.status_code for a in answers]
    assert codes.count(422) <= 5 and codes.count(429) >= 15 and set(codes) <= {422, 429}


async def test_nobody_opens_another_customers_order():
    ids = await sales_catalog()
    mine = await _bought(ids, address="203.0.113.80")
    theirs = await _bought(ids, address="203.0.113.81", name="张三", phone="13911112222", email="zhangsan@example.cn")
    async with shop_client(address="203.0.113.82") as client:
        assert (await _lookup(client, mine, BUYER_FORM["phone"])).status_code == 303
        wrong_contact = await _lookup(client, theirs, BUYER_FORM["phone"])  # my phone, their code
        for path in (
            f"/shop/orders/{theirs}",
            f"/shop/orders/{theirs}/tickets.pdf",
            f"/shop/orders/{theirs}/email-status",
            f"/o/{theirs}",
        ):
            page = await client.get(path, follow_redirects=True)
            assert 'data-testid="lookup-form"' in page.text and "张三" not in page.text and "%PDF" not in page.text
        for action in ("pay", "cancel", "email"):
            refused = await post_form(client, f"/shop/orders/{theirs}/{action}")
            assert 'data-testid="lookup-form"' in refused.text
        forged = client.cookies.get(GRANT_COOKIE).replace(mine, theirs)
        client.cookies.set(GRANT_COOKIE, forged, domain="testserver.local")
        tampered = await client.get(f"/shop/orders/{theirs}")
        own_after_tamper = await client.get(f"/shop/orders/{mine}")
    assert wrong_contact.status_code == 422
    assert 'data-testid="lookup-form"' in tampered.text and "张三" not in tampered.text
    assert 'data-testid="lookup-form"' in own_after_tamper.text  # a tampered cookie grants nothing at all


def test_mail_goes_to_a_port_known_to_be_closed_unless_a_test_starts_a_server():
    host, port = os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=2)


async def test_customer_data_never_reaches_urls_or_logs(capfd):
    """Everything logged during a purchase, a failed e-mail and two lookups (the app logs through a queue
    to stderr; httpx logs each URL requested)."""
    ids = await sales_catalog()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    async with shop_client(address="203.0.113.90") as client:
        code = order_code(await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1"}))
        page = await pay_through_checkout(client, code)  # no SMTP server here: the e-mail fails, and is logged
        await _lookup(client, code, "13800138000")
        await _lookup(client, code, "wrong@example.cn")
    await asyncio.sleep(0.3)  # let the queue listener write
    root.setLevel(previous)
    out, err = capfd.readouterr()
    logged = out + err
    assert 'data-testid="email-failed"' in page.text
    assert f"ticket e-mail for order {code} failed" in logged  # the log does talk about the order...
    for secret in ("13800138000", "xiaoming", "王小明", "wrong@example"):
        assert secret not in logged  # ...never about the customer
    urls = [line for line in logged.splitlines() if "HTTP Request" in line]
    assert urls and not any("1380013" in u or "@" in u for u in urls)


async def test_order_creation_is_rate_limited_per_client(monkeypatch):
    from db.core.throttle import Limit
    from db.sales.channels import shop as shop_orders

    ids = await sales_catalog()
    monkeypatch.setattr(shop_orders, "ORDERS_PER_CLIENT", Limit(3, shop_orders.ORDERS_PER_CLIENT.window))
    async with shop_client(address="203.0.113.99") as client, shop_client(address="203.0.113.98") as other:
        answers = [
            (await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1"})).status_code for _ in range(4)
        ]
        elsewhere = await hold(other, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1"})
    assert answers == [303, 303, 303, 429] and elsewhere.status_code == 303


async def test_wrong_contact_and_unknown_code_take_similar_time(monkeypatch):
    """Interleaved timings of the lookup operation: a wrong phone for a real order vs an unknown code."""
    import statistics
    import time

    from db.core.errors import InvalidInput
    from db.core.throttle import Limit
    from db.sales.channels import lookup as shop_lookup

    ids = await sales_catalog()
    code = await _bought(ids)
    wide = Limit(1000, shop_lookup.LOOKUPS_PER_CLIENT.window)
    monkeypatch.setattr(shop_lookup, "LOOKUPS_PER_CLIENT", wide)
    monkeypatch.setattr(shop_lookup, "LOOKUPS_PER_CODE", wide)
    timings: dict[str, list[float]] = {"wrong": [], "unknown": []}
    for i in range(12):
        for kind, tried in (("wrong", code), ("unknown", f"UNKNOWN{i:03d}")):
            started = time.perf_counter()
            try:
                await shop_lookup.find_order("timing-client", tried, "13900000000")
            except InvalidInput:
                timings[kind].append(time.perf_counter() - started)
    wrong, unknown = statistics.median(timings["wrong"]), statistics.median(timings["unknown"])
    assert len(timings["wrong"]) == len(timings["unknown"]) == 12
    assert abs(wrong - unknown) <= max(0.5 * max(wrong, unknown), 0.02), (wrong, unknown)


async def test_rate_limits_count_their_own_table_not_the_audit_log_and_forget_old_attempts():
    import datetime as dt

    from db.core.actor import Actor
    from db.core.clock import utcnow
    from db.core.tables import RateAttempt
    from db.core.throttle import KEEP_ATTEMPTS, LOOKUP_ATTEMPT, forget_old_attempts

    await sales_catalog()
    # Audit entries that look like attempts (as the shop wrote them before) count for nothing.
    from db.audit.record import record

    for _ in range(20):
        await record(Actor.customer("old"), LOOKUP_ATTEMPT, "shop_attempt", "NOPE000000")
    async with shop_client(address="198.21.0.1") as client:
        answers = [(await _lookup(client, f"NOPE{i:06d}", "13900000000")).status_code for i in range(3)]
    assert answers == [422] * 3
    assert await RateAttempt.count().where(RateAttempt.action == LOOKUP_ATTEMPT) == 3
    assert await AuditEntry.count().where(AuditEntry.action == LOOKUP_ATTEMPT) == 20  # none added
    old = utcnow() - KEEP_ATTEMPTS - dt.timedelta(minutes=1)
    await RateAttempt.insert(RateAttempt(action=LOOKUP_ATTEMPT, client="gone", key="NOPE", at=old))
    assert await forget_old_attempts() == 1
    assert await RateAttempt.count() == 3 and not await RateAttempt.exists().where(RateAttempt.client == "gone")
