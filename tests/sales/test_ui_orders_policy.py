"""Staff order search (R6.2) with customer data only on purpose and each use recorded (R6.3), and the sales
policy page (R1.1, R3.3-R3.6): channel audit and hold time, group tiers, concession kinds, all audited."""

from __future__ import annotations

from db.audit.tables import AuditEntry
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.ordering.pricing import Tier
from db.sales.policy import channel_policy, concession_kinds, group_tiers
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, post_form
from tests.sales.support import BUYER, sales_catalog
from tests.sales.ui_support import HX, staff_client


async def _orders(ids) -> tuple[str, str]:
    mine = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=1)],
    )
    other = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="partner",
        buyer=Buyer("李四", "13700137000"),
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=2)],
    )
    return mine.code, other.code


async def test_search_by_code_phone_and_status():
    ids = await sales_catalog()
    mine, other = await _orders(ids)
    async with staff_client(Role.SELLER, "seller1") as client:
        everything = await client.get("/sales/orders")
        assert mine in everything.text and other in everything.text and "王小明" not in everything.text
        by_code = await client.get("/sales/orders", params={"code": mine.lower()}, headers=HX)
        assert 'id="orders-results"' in by_code.text and mine in by_code.text and other not in by_code.text
        by_phone = await post_form(client, "/sales/orders/search", {"phone": "138-0013-8000"})
        assert mine in by_phone.text and other not in by_phone.text
        assert "13800138000" not in str(by_phone.url) and "138-0013-8000" not in str(by_phone.url)
        ignored = await client.get("/sales/orders", params={"phone": "138-0013-8000"})  # a phone in a URL: unused
        assert mine in ignored.text and other in ignored.text
        searches = await AuditEntry.select(AuditEntry.summary, AuditEntry.after).where(
            AuditEntry.action == "customer.search"
        )
        assert len(searches) == 1 and "13800138000" not in str(searches)  # recorded, without the number
        bad_phone = await post_form(client, "/sales/orders/search", {"phone": "abc"})
        assert bad_phone.status_code == 422 and "请填写购票人手机号" in bad_phone.text
        none = await client.get("/sales/orders", params={"status": "paid"})
        assert mine not in none.text and "没有匹配的订单" in none.text


async def test_buyer_details_are_opened_on_purpose_and_recorded():
    ids = await sales_catalog()
    mine, _ = await _orders(ids)
    async with staff_client(Role.SELLER, "seller1") as client:
        page = await client.get(f"/sales/orders/{mine}")
        assert "13800138000" not in page.text and 'data-testid="show-buyer"' in page.text
        assert await AuditEntry.count().where(AuditEntry.action == "customer.view") == 0
        buyer = await client.get(f"/sales/orders/{mine}/buyer", headers=HX)
        assert (
            "138****8000" in buyer.text
            and "13800138000" not in buyer.text  # masked: shown in full only by a reveal with a purpose
            and "1101**********1234" in buyer.text
            and "110101199003071234" not in buyer.text
            and 'hx-post="/privacy/reveal"' in buyer.text
        )
    views = await AuditEntry.select(AuditEntry.actor_name, AuditEntry.object_id).where(
        AuditEntry.action == "customer.view"
    )
    assert views == [{"actor_name": "seller1", "object_id": mine}]
    async with staff_client(Role.ADMIN, "admin1") as admin:  # no CUSTOMER_DATA_VIEW, no SALES_INQUIRE
        assert (await admin.get(f"/sales/orders/{mine}/buyer")).status_code == 403
        assert (await admin.get(f"/sales/orders/{mine}")).status_code == 403


async def test_policy_page_edits_channels_tiers_and_concessions_with_audit():
    await sales_catalog()
    async with staff_client(Role.SELLER, "seller1") as seller:
        assert (await seller.get("/sales/policy")).status_code == 403
        assert (
            await post_form(seller, "/sales/policy/channels/web_shop", {"needs_audit": "on", "hold_minutes": "5"})
        ).status_code == 403
    async with staff_client(Role.SUPERVISOR, "boss") as client:
        page = await client.get("/sales/policy")
        assert page.status_code == 200 and 'data-testid="kind-student"' in page.text
        prefilled = await client.get("/sales/policy", params={"edit": "student"})
        assert 'name="code" value="student"' in prefilled.text and 'name="name_zh" value="学生"' in prefilled.text
        saved = await post_form(client, "/sales/policy/channels/web_shop", {"needs_audit": "on", "hold_minutes": "20"})
        assert saved.status_code == 200 and "渠道政策已保存。" in saved.text
        assert await channel_policy("web_shop") == (True, 20)
        bad_hold = await post_form(client, "/sales/policy/channels/web_shop", {"hold_minutes": "0"})
        assert bad_hold.status_code == 422 and 'data-testid="form-error"' in bad_hold.text
        assert await channel_policy("web_shop") == (True, 20)

        bad_tiers = await post_form(client, "/sales/policy/group-tiers", {"min_size_0": "10", "percent_off_0": "150"})
        assert (
            bad_tiers.status_code == 422
            and "折扣必须在 0% 到 100% 之间。" in bad_tiers.text
            and 'value="150"' in bad_tiers.text
        )
        assert await group_tiers() == [Tier(10, 10), Tier(30, 15), Tier(50, 20)]
        tiers = await post_form(
            client,
            "/sales/policy/group-tiers",
            {
                "min_size_0": "8",
                "percent_off_0": "5",
                "min_size_1": "",
                "percent_off_1": "",
                "min_size_2": "40",
                "percent_off_2": "25",
            },
        )
        assert tiers.status_code == 200 and await group_tiers() == [Tier(8, 5), Tier(40, 25)]

        both = await post_form(
            client,
            "/sales/policy/concessions",
            {"code": "teacher", "name_zh": "教师", "name_en": "Teacher", "percent_off": "20", "fixed_price": "10"},
        )
        assert (
            both.status_code == 422
            and "请填写折扣百分比或固定价格，二者选一。" in both.text
            and 'value="teacher"' in both.text
        )
        kind = await post_form(
            client,
            "/sales/policy/concessions",
            {
                "code": "teacher",
                "name_zh": "教师",
                "name_en": "Teacher",
                "fixed_price": "30",
                "requires_id": "on",
                "active": "on",
                "id_hint": "教师资格证",
            },
        )
        assert kind.status_code == 200 and 'data-testid="kind-teacher"' in kind.text and "固定价 ¥30.00" in kind.text
    teacher = next(k for k in await concession_kinds() if k["code"] == "teacher")
    assert teacher["fixed_price_fen"] == 3000 and teacher["requires_id"] and teacher["percent_off"] is None
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(
            (AuditEntry.actor_name == "boss") & AuditEntry.action.like("policy.%")
        )
    ]
    assert sorted(actions) == ["policy.channel", "policy.concession", "policy.group_tiers"]
