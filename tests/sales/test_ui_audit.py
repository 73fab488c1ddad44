"""The audit queue (R3.4 step 3, R3.5, R3.6, R6.3): orders awaiting audit with buyer, masked concession IDs
and group size; approve or reject with a reason (required: an on-page error otherwise, nothing changed);
the seller sees the result on the order page; showing the queue records each use of customer data."""

from __future__ import annotations

from db.audit.tables import AuditEntry
from db.core.actor import Actor
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.tables import Order
from db.staff.accounts import create_staff
from db.staff.permissions import Role
from db.staff.tables import StaffUser
from tests.helpers import ADMIN_ACTOR, PASSWORD, post_form
from tests.sales.support import BUYER, sales_catalog
from tests.sales.ui_support import HX, staff_client


async def _concession_order(ids) -> str:
    seller = await StaffUser.select(StaffUser.id).where(StaffUser.username == "seller1").first()
    order = await create_order(
        Actor(seller["id"], "seller1", "seller"),
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[
            ItemRequest(
                seat_id=ids["vip_seats"][0], concession="student", id_type="student_card", id_number="S2026000123"
            )
        ],
    )
    return order.code


async def test_auditor_sees_the_queue_and_approves_for_payment():
    ids = await sales_catalog()
    await create_staff(ADMIN_ACTOR, "seller1", "售票员一", "seller", PASSWORD)
    code = await _concession_order(ids)
    group = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=12)],
    )
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        queue = await client.get("/sales/audit")
        assert queue.status_code == 200
        assert f'data-testid="audit-{code}"' in queue.text and f'data-testid="audit-{group.code}"' in queue.text
        assert "S202***0123" in queue.text and "S2026000123" not in queue.text  # the checked ID, masked
        assert "1101**********1234" in queue.text and "王小明" in queue.text
        assert "团体 12 人：优惠 10%" in queue.text
        approved = await post_form(client, f"/sales/audit/{code}/approve", {"note": "学生证已核"}, headers=HX)
        assert approved.status_code == 200 and f"订单 {code} 已通过" in approved.text
        assert f'data-testid="audit-{code}"' not in approved.text
    order = await Order.select(Order.status, Order.audited_by, Order.expires_at).where(Order.code == code).first()
    assert order["status"] == "awaiting_payment" and order["audited_by"] is not None and order["expires_at"] is not None
    viewed = await AuditEntry.select(AuditEntry.object_id).where(AuditEntry.action == "customer.view")
    assert {code, group.code} <= {v["object_id"] for v in viewed}
    async with staff_client(Role.SELLER, "seller2") as seller:
        page = await seller.get(f"/sales/orders/{code}")
        assert 'data-status="awaiting_payment"' in page.text and 'data-testid="pay-form"' in page.text
        assert "学生证已核" in page.text


async def test_reject_needs_a_reason_and_the_seller_sees_it():
    ids = await sales_catalog()
    await create_staff(ADMIN_ACTOR, "seller1", "售票员一", "seller", PASSWORD)
    code = await _concession_order(ids)
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        blank = await post_form(client, f"/sales/audit/{code}/reject", {"reason": "  "}, headers=HX)
        assert blank.status_code == 422 and "请填写驳回原因" in blank.text
        assert f'data-testid="reason-{code}"' in blank.text and 'aria-invalid="true"' in blank.text
        assert (await Order.select(Order.status).first())["status"] == "awaiting_audit"
        rejected = await post_form(client, f"/sales/audit/{code}/reject", {"reason": "学生证已过期"}, headers=HX)
        assert rejected.status_code == 200 and "已驳回" in rejected.text
        twice = await post_form(client, f"/sales/audit/{code}/approve", {}, headers=HX)
        assert twice.status_code == 409 and 'data-testid="form-error"' in twice.text
    async with staff_client(Role.SELLER, "seller2") as seller:
        page = await seller.get(f"/sales/orders/{code}", headers=HX)
        assert 'data-testid="rejected"' in page.text and "学生证已过期" in page.text
        assert 'hx-trigger="every 5s"' not in page.text  # no more polling once decided


async def test_order_awaiting_audit_polls_and_auditor_cannot_audit_own_sale():
    ids = await sales_catalog()
    async with staff_client(Role.SUPERVISOR, "boss") as boss:
        await post_form(
            boss,
            f"/sales/sessions/{ids['ga_session']}/orders",
            {f"qty_{ids['ga_class']}": "10", "buyer_name": "团队", "buyer_phone": "13900139000"},
            headers=HX,
        )
        code = (await Order.select(Order.code).first())["code"]
        page = await boss.get(f"/sales/orders/{code}")
        assert 'data-testid="awaiting-audit"' in page.text and 'hx-trigger="every 5s"' in page.text
        own = await post_form(boss, f"/sales/audit/{code}/approve", {}, headers=HX)
        assert own.status_code == 403 and "不能审核自己售出的订单。" in own.text
    assert (await Order.select(Order.status).first())["status"] == "awaiting_audit"


async def test_sellers_have_no_audit_queue():
    await sales_catalog()
    async with staff_client(Role.SELLER, "seller1") as client:
        assert (await client.get("/sales/audit")).status_code == 403


async def test_a_seated_group_order_shows_its_seats_to_the_auditor():
    """Issue 15: the auditor checks a group's seats, not only its class and count."""
    from db.sales.ordering.pricing import Tier
    from db.sales.policy import set_group_tiers

    ids = await sales_catalog()
    await set_group_tiers(ADMIN_ACTOR, [Tier(3, 10)])
    group = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=seat) for seat in ids["vip_seats"][:3]],
    )
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        queue = (await client.get("/sales/audit")).text
    card = queue[queue.index(f'data-testid="audit-{group.code}"') :]
    seats = [cell.split("<")[0] for cell in card.split('data-testid="audit-seat">')[1:4]]
    assert seats == ["池座 1排1座", "池座 1排2座", "池座 1排3座"]
