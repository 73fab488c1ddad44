"""The buyer details a sale needs (issue 15, R1.1): policy per kind of event and channel, each change a new
audited version; the box office, the shop and the partner API ask for exactly those; the e-tickets go where a
contact exists and the tickets are printed otherwise (a walk-in attraction buyer gives nothing)."""

from __future__ import annotations

import pytest

from db.audit.tables import AuditEntry
from db.core.errors import InvalidInput
from db.sales.delivery.operations import deliver_e_tickets
from db.sales.payments.operations import confirm_window_payment
from db.sales.policy import buyer_details_needed, set_buyer_details
from db.sales.tables import Order, SmsMessage
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, post_form
from tests.sales.support import AUTH, sales_catalog
from tests.sales.ui_support import HX, staff_client
from tests.shop.support import hold, order_code, pay_through_checkout, shop_client


async def test_each_change_is_a_new_audited_version_and_online_sales_keep_a_contact():
    assert await buyer_details_needed("attraction", "box_office") == {"name", "phone"}  # never changed
    assert await buyer_details_needed("attraction", "web_shop") == {"name", "phone", "email"}
    assert await set_buyer_details(ADMIN_ACTOR, "attraction", "box_office", set()) == 1
    assert await set_buyer_details(ADMIN_ACTOR, "attraction", "box_office", {"phone"}) == 2
    assert await buyer_details_needed("attraction", "box_office") == {"phone"}
    assert await buyer_details_needed("film", "box_office") == {"name", "phone"}  # another kind is untouched
    for kind, channel, details in (
        ("attraction", "web_shop", {"name"}),  # no contact for the e-tickets
        ("attraction", "partner", set()),
        ("opera", "box_office", set()),
        ("attraction", "box_office", {"passport"}),
    ):
        with pytest.raises(InvalidInput):
            await set_buyer_details(ADMIN_ACTOR, kind, channel, details)
    changes = (
        await AuditEntry.select(AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.action == "policy.buyer_details")
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert [c["object_id"] for c in changes] == ["attraction/box_office"] * 2
    assert changes[1]["before"] == {"details": []} and changes[1]["after"] == {"details": ["phone"], "version": 2}


async def test_a_walk_in_attraction_buyer_at_the_window_gives_nothing_and_gets_printed_tickets():
    ids = await sales_catalog()
    base = f"/sales/sessions/{ids['ga_session']}"
    async with staff_client(Role.SUPERVISOR, "zhangwei") as boss:
        saved = await post_form(boss, "/sales/policy/buyer-details/attraction/box_office", {})
        assert saved.status_code == 200 and "购票人信息要求已保存为第 1 版" in saved.text
    async with staff_client(Role.SELLER, "seller1") as client:
        details = await post_form(client, f"{base}/order/details", {f"qty_{ids['ga_class']}": "2"}, headers=HX)
        assert 'data-testid="no-buyer-details"' in details.text and 'name="buyer_phone"' not in details.text
        placed = await post_form(client, f"{base}/orders", {f"qty_{ids['ga_class']}": "2"}, headers=HX)
        assert placed.status_code == 201, placed.text
        order = await Order.select(Order.code, Order.buyer_name, Order.buyer_phone).first()
        assert order["buyer_name"] == order["buyer_phone"] == ""
        await confirm_window_payment(ADMIN_ACTOR, order["code"], "cash", tendered_fen=10000)
        page = (await client.get(f"/sales/orders/{order['code']}")).text
    assert 'data-testid="print-only"' in page and 'data-testid="pdf"' in page
    assert 'data-testid="deliver-email"' not in page and 'data-testid="deliver-sms"' not in page
    assert "<td>成人票</td>" in page and "不对号入座" not in page  # a GA line reads as its class
    assert await deliver_e_tickets(ADMIN_ACTOR, order["code"]) is None  # nothing to send to


async def test_the_window_asks_for_exactly_what_the_policy_needs_and_says_every_missing_detail():
    ids = await sales_catalog()
    await set_buyer_details(ADMIN_ACTOR, "attraction", "box_office", {"name", "email", "id"})
    base = f"/sales/sessions/{ids['ga_session']}"
    async with staff_client(Role.SELLER, "seller1") as client:
        details = await post_form(client, f"{base}/order/details", {f"qty_{ids['ga_class']}": "1"}, headers=HX)
        for field, shown in (
            ("buyer_name", True),
            ("buyer_phone", False),
            ("buyer_email", True),
            ("buyer_id_number", True),
        ):
            assert (f'name="{field}"' in details.text) is shown, field
        refused = await post_form(client, f"{base}/orders", {f"qty_{ids['ga_class']}": "1"}, headers=HX)
        assert refused.status_code == 422
        for message in ("请填写购票人姓名", "请填写电子邮箱：电子票将发送到该邮箱。", "请输入购票人的证件号码。"):
            assert message in refused.text, message
        assert await Order.count() == 0


async def test_the_shop_asks_for_a_phone_only_and_texts_the_link():
    ids = await sales_catalog()
    await set_buyer_details(ADMIN_ACTOR, "attraction", "web_shop", {"phone"})
    async with shop_client() as client:
        page = (await client.get(f"/shop/sessions/{ids['ga_session']}")).text
        assert 'name="phone"' in page and 'name="email"' not in page and 'name="name"' not in page
        held = await hold(client, ids["ga_session"], name="", email="", **{f"qty_{ids['ga_class']}": "1"})
        code = order_code(held)
        await pay_through_checkout(client, code)  # then the shop sends the e-tickets where it can
    sms = await SmsMessage.select(SmsMessage.phone, SmsMessage.body).first()
    assert sms["phone"] == "13800138000" and code in sms["body"]


async def test_the_partner_api_says_what_to_send_and_refuses_what_is_missing():
    from tests.helpers import http_client

    ids = await sales_catalog()
    await set_buyer_details(ADMIN_ACTOR, "attraction", "partner", {"phone", "id"})
    async with http_client() as client:
        events = {e["name"]: e for e in (await client.get("/api/v1/events", headers=AUTH)).json()}
        assert events["测试景区"]["buyer_details"] == ["phone", "id"]
        assert events["测试演出"]["buyer_details"] == ["name", "phone"]
        order = {"session_id": ids["ga_session"], "items": [{"price_class_id": ids["ga_class"], "quantity": 1}]}
        missing = await client.post("/api/v1/orders", json={**order, "buyer": {"phone": "13900139000"}}, headers=AUTH)
        assert missing.status_code == 422 and missing.json()["field"] == "buyer.id_number"
        placed = await client.post(
            "/api/v1/orders", json={**order, "buyer": {"phone": "13900139000", "id_number": "E12345678"}}, headers=AUTH
        )
        assert placed.status_code == 201, placed.text
    stored = await Order.select(Order.buyer_name, Order.buyer_id_masked).first()
    assert stored["buyer_name"] == "" and stored["buyer_id_masked"] == "E123*5678"


async def test_saves_at_the_same_moment_each_get_their_own_version():
    import asyncio

    from db.sales.tables import BuyerDetailsPolicy

    saved = await asyncio.gather(
        *(set_buyer_details(ADMIN_ACTOR, "film", "box_office", {"name"} if i % 2 else {"phone"}) for i in range(6))
    )
    assert sorted(saved) == [1, 2, 3, 4, 5, 6]
    rows = await BuyerDetailsPolicy.select(BuyerDetailsPolicy.version).where(BuyerDetailsPolicy.event_kind == "film")
    assert sorted(r["version"] for r in rows) == [1, 2, 3, 4, 5, 6]
