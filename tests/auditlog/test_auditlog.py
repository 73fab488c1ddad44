"""The audit log page (R6.3): newest first, filters by action prefix, actor, object type and local date
range, pages of 50, before/after shown readably; HTMX swaps the results, plain GET works without JS."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest

from db.audit.record import record
from db.audit.tables import AuditEntry
from db.catalog import operations as catalog
from db.core.actor import Actor
from tests.helpers import http_client, make_staff, sign_in, small_catalog, utc

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def auditor():
    await make_staff("auditor", "wangfang")
    async with http_client() as client:
        await sign_in(client, "wangfang")
        yield client


def actions(text: str) -> list[str]:
    return re.findall(r'data-testid="audit-entry" data-action="([^"]+)"', text)


async def test_entries_are_newest_first_with_before_and_after(auditor):
    ids = await small_catalog()
    pc = (await catalog.session_prices(ids["seated_session"]))[0]
    await catalog.schedule_price_change(Actor(None, "zhangwei", "supervisor"), pc["id"], 45000, utc(days=1), "VIP 调价")
    page = await auditor.get("/auditlog")
    assert page.status_code == 200
    listed = actions(page.text)
    assert listed[0] == "price.schedule"  # the latest write comes first
    assert listed[1] == "session.create" and listed.index("staff.sign_in") > listed.index("venue.create")
    assert listed.count("session.create") == 2 and listed.count("venue.create") == 2
    row = page.text[page.text.index('data-action="price.schedule"') :].split("</tr>")[0]
    assert "zhangwei" in row and "票务主管" in row
    assert re.search(r'<dt>price_fen</dt>\s*<dd class="changed"><del>¥500.00</del> → <span>¥450.00</span></dd>', row)
    assert re.search(
        r'<dt>effective_at</dt>\s*<dd class="changed"><del>—</del> → <span>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</span>', row
    )
    # What the action means in the page's language, the code and the raw values still there (issue 15).
    assert '<span data-testid="action-label">已设定定时调价</span>' in row and "<code>price.schedule</code>" in row
    assert '"price_fen": 45000' in html.unescape(row.split('data-testid="audit-raw"')[1])
    auditor.cookies.set("lang", "en")
    english = (await auditor.get("/auditlog")).text
    assert '<span data-testid="action-label">Price change scheduled</span>' in english
    auditor.cookies.set("lang", "zh_CN")


async def test_statuses_read_by_their_labels_and_refund_summaries_in_the_page_language(auditor):
    await record(
        Actor(None, "lina", "seller"),
        "refund.request",
        "order",
        "AB12CD",
        summary="R0001: 2 ticket(s), refund 128000 fen, fee 0 fen",
        before={"status": "awaiting_payment"},
        after={"status": "paid", "refund_fen": 128000},
    )
    row = (await auditor.get("/auditlog")).text.split('data-action="refund.request"')[1].split("</tr>")[0]
    assert "<del>审核通过，待付款</del> → <span>已付款</span>" in row and "R0001：2 张票，退款 ¥1,280.00" in row
    assert '"status": "paid"' in html.unescape(row)  # the raw value under the details toggle


def test_every_recorded_action_says_what_it_means():
    """Each action code written by a literal record(...) call in db/ has its label (web/labels.py)."""
    import ast
    from pathlib import Path

    from web.labels import AUDIT_ACTION

    calls = [
        node
        for path in Path("db").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("record", "entry")
    ]
    codes = {
        c.args[1].value
        for c in calls
        if len(c.args) > 1 and isinstance(c.args[1], ast.Constant) and isinstance(c.args[1].value, str)
    }
    assert len(codes) > 90 and codes - AUDIT_ACTION.keys() == set()


async def test_filters_by_action_prefix_actor_and_object_type(auditor):
    ids = await small_catalog()
    pc = (await catalog.session_prices(ids["seated_session"]))[0]
    await catalog.schedule_price_change(Actor(None, "ZhangWei", "supervisor"), pc["id"], 45000, utc(days=1), "调价")
    assert set(actions((await auditor.get("/auditlog?action=price.")).text)) == {"price.schedule"}
    assert set(actions((await auditor.get("/auditlog?action=venue")).text)) == {"venue.create"}
    by_actor = actions((await auditor.get("/auditlog?actor=zhangw")).text)  # case-insensitive part of the name
    assert by_actor == ["price.schedule"]
    assert set(actions((await auditor.get("/auditlog?object_type=gate")).text)) == {"gate.create"}
    none = await auditor.get("/auditlog?action=refund.")
    assert actions(none.text) == [] and "没有符合筛选条件的记录" in none.text


async def test_date_range_is_in_local_days(auditor):
    actor = Actor(None, "tester", "system")
    # 2026-03-01 23:30 in Shanghai is 15:30 UTC the same day; 2026-03-02 00:30 there is 16:30 UTC on 03-01.
    for local, action in (
        (dt.datetime(2026, 3, 1, 23, 30), "test.late"),
        (dt.datetime(2026, 3, 2, 0, 30), "test.next_day"),
    ):
        await record(actor, action, "test")
        latest = await AuditEntry.objects().order_by(AuditEntry.id, ascending=False).first()
        latest.at = local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
        await latest.save([AuditEntry.at])
    assert actions((await auditor.get("/auditlog?since=2026-03-01&until=2026-03-01")).text) == ["test.late"]
    assert actions((await auditor.get("/auditlog?since=2026-03-02&until=2026-03-02")).text) == ["test.next_day"]
    assert actions((await auditor.get("/auditlog?since=2026-03-01&until=2026-03-02")).text) == [
        "test.next_day",
        "test.late",
    ]
    bad = await auditor.get("/auditlog?since=03/01/2026")
    assert bad.status_code == 422 and "请输入日期，例如 2026-11-26" in bad.text


async def test_htmx_filter_gets_only_the_results_partial(auditor):
    await small_catalog()
    full = await auditor.get("/auditlog?action=gate.")
    assert "<html" in full.text and 'data-testid="audit-filter"' in full.text
    partial = await auditor.get("/auditlog?action=gate.", headers={"hx-request": "true"})
    assert "<html" not in partial.text and 'data-testid="audit-filter"' not in partial.text
    assert set(actions(partial.text)) == {"gate.create"}
    assert 'hx-get="/auditlog"' in full.text and 'action="/auditlog"' in full.text  # and without JS, a GET form


async def test_pages_of_fifty_keep_the_filters(auditor):
    actor = Actor(None, "bulk", "system")
    for n in range(120):
        await record(actor, "test.bulk", "test", n)
    first = await auditor.get("/auditlog?action=test.")
    assert len(actions(first.text)) == 50
    older = re.search(r'href="(/auditlog\?[^"]+)"[^>]*data-testid="older"', first.text).group(1).replace("&amp;", "&")
    assert "action=test." in older and "page=2" in older
    second = await auditor.get(older)
    third = await auditor.get("/auditlog?action=test.&page=3")
    assert len(actions(second.text)) == 50 and len(actions(third.text)) == 20
    assert 'data-testid="older"' not in third.text
    ids = [int(x) for x in re.findall(r"test #(\d+)", first.text + second.text + third.text)]
    assert ids == list(range(119, -1, -1))  # every entry once, newest first


async def test_seller_cannot_read_the_audit_log():
    await make_staff("seller", "lina")
    async with http_client() as seller:
        await sign_in(seller, "lina")
        assert (await seller.get("/auditlog")).status_code == 403
