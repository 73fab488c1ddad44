"""Customer data (issue 14, R6.3): masking, reveals with a purpose and their log, data-use requests approved
for a limited time with every download logged, and retention that anonymises old sessions' buyers while
keeping the figures reports need."""

from __future__ import annotations

import datetime as dt

import pytest

from db.audit.tables import AuditEntry
from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.privacy import data_use, retention
from db.privacy.masking import ANONYMISED_NAME, mask_email, mask_phone
from db.privacy.reveals import reveal, reveal_log
from db.privacy.tables import DataUseDownload, DataUseRequest, Reveal
from db.sales.tables import Order, OrderItem, Ticket
from tests.privacy.support import paid_orders
from tests.sales.support import sales_catalog

SELLER = Actor(11, "李娜", "seller")
AUDITOR = Actor(12, "王芳", "auditor")
SUPERVISOR = Actor(13, "张伟", "supervisor")
GATE = Actor(14, "陈杰", "gate")


def test_masks_keep_enough_to_recognise_and_nothing_to_use():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+8613800138000") == "+86*******8000"
    assert mask_phone("12345") == "***45" and mask_phone("") == ""
    assert mask_email("xiaoming@example.cn") == "x***@example.cn"
    assert mask_email("") == "" and mask_email("broken") == "b***"


async def test_a_reveal_needs_a_purpose_and_is_logged_with_who_what_and_why():
    ids = await sales_catalog()
    code = (await paid_orders(ids["ga_session"], ids["ga_class"]))[0]
    with pytest.raises(InvalidInput) as no_purpose:
        await reveal(SELLER, code, "phone", "  ")
    assert no_purpose.value.field == "purpose"
    assert await Reveal.count() == 0  # nothing logged, nothing shown
    with pytest.raises(PermissionDenied):
        await reveal(GATE, code, "phone", "客户来电确认")
    with pytest.raises(InvalidInput):
        await reveal(SELLER, code, "buyer_name", "客户来电确认")
    shown = await reveal(SELLER, code, "phone", "客户来电  改签确认")
    assert shown.value == "13800138000"
    assert (await reveal(AUDITOR, code, "email", "核对退款邮箱")).value == "xiaoming@example.cn"
    log = await reveal_log()
    assert [(r["staff_name"], r["field"], r["purpose"], r["customer"]) for r in log] == [
        ("王芳", "email", "核对退款邮箱", "王小明"),
        ("李娜", "phone", "客户来电 改签确认", "王小明"),
    ]
    assert [r["order_code"] for r in await reveal_log(staff="李")] == [code]
    audited = await AuditEntry.select().where(AuditEntry.action == "customer.reveal")
    assert len(audited) == 2 and "13800138000" not in str(audited)


async def test_data_use_needs_the_supervisors_approval_for_a_limited_time_and_downloads_are_logged():
    ids = await sales_catalog()
    await paid_orders(ids["ga_session"], ids["ga_class"])
    with pytest.raises(InvalidInput) as unknown:
        await data_use.request_use(SELLER, "all_customers_ever", ids["ga_session"], "年终回访")
    assert unknown.value.field == "export" and await DataUseRequest.count() == 0
    request_id = await data_use.request_use(SELLER, "mailing_list", ids["ga_session"], "演出改期通知邮件")
    with pytest.raises(Conflict):
        await data_use.download(SELLER, request_id)  # not approved yet
    with pytest.raises(PermissionDenied):
        await data_use.decide(SELLER, request_id, True)
    await data_use.decide(SUPERVISOR, request_id, True, days=2)
    with pytest.raises(Conflict):
        await data_use.decide(SUPERVISOR, request_id, False)
    with pytest.raises(PermissionDenied):
        await data_use.download(AUDITOR, request_id)  # not theirs
    name, text = await data_use.download(SELLER, request_id)
    assert name.endswith(".csv") and text.splitlines() == [
        "name,email",
        "王小明,xiaoming@example.cn",
        "李华,lihua@example.com",
    ]
    downloads = await DataUseDownload.select()
    assert [(d["staff_name"], d["rows"]) for d in downloads] == [("李娜", 2)]
    await DataUseRequest.update({DataUseRequest.valid_until: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        DataUseRequest.id == request_id
    )
    with pytest.raises(Conflict, match="expired"):
        await data_use.download(SELLER, request_id)
    assert [r["expired"] for r in await data_use.requests(SELLER)] == [True]
    assert await data_use.requests(AUDITOR) == []


async def test_retention_anonymises_old_sessions_buyers_and_keeps_the_figures():
    ids = await sales_catalog()
    old = await paid_orders(ids["ga_session"], ids["ga_class"])
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    await EventSession.update({EventSession.ends_at: recent}).where(EventSession.id == ids["ga_session"])
    assert await retention.anonymise() == 0  # kept 365 days by default
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    await EventSession.update({EventSession.ends_at: long_ago}).where(EventSession.id == ids["ga_session"])
    totals_before = sorted(r["total_fen"] for r in await Order.select(Order.total_fen))
    tickets_before = await Ticket.count()
    assert await retention.anonymise() == 3
    assert await retention.anonymise() == 0  # done once
    rows = await Order.select().where(Order.code.is_in(old))
    assert {(r["buyer_name"], r["buyer_phone"], r["buyer_email"]) for r in rows} == {(ANONYMISED_NAME, "", "")}
    assert sorted(r["total_fen"] for r in await Order.select(Order.total_fen)) == totals_before
    assert await Ticket.count() == tickets_before and await OrderItem.count() == 3
    with pytest.raises(InvalidInput):
        await retention.set_keep_days(SUPERVISOR, 5)
    await retention.set_keep_days(SUPERVISOR, 500)
    assert await retention.keep_days() == 500
