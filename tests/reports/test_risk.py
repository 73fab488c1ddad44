"""Risk alerts (R8.4, issue 12): rules with thresholds as data raise alerts once per subject and window, shown
on the supervisor's home page and e-mailed through a real SMTP server, acknowledged with a note (audited),
and kept."""

from __future__ import annotations

import asyncio

from db.audit.tables import AuditEntry
from db.core.clock import utcnow
from db.finance import ledger
from db.reports import risk
from db.reports.tables import RiskAlert, RiskRule
from db.sales.ordering.orders import ItemRequest, approve_order, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.tables import Order, Payment
from tests.aftersale.support import OTHER_SUPERVISOR, SELLER, SUPERVISOR
from tests.helpers import ADMIN_ACTOR, post_form
from tests.reports.support import sales_with_refund, signed_in
from tests.sales.support import BUYER
from tests.smtp import smtp_server


async def _rule(code: str, **values) -> None:
    await risk.ensure_rules()
    await RiskRule.update({getattr(RiskRule, k): v for k, v in values.items()}).where(RiskRule.code == code)


async def test_a_refund_spike_is_raised_once_mailed_shown_and_acknowledged_with_a_note(monkeypatch):
    await sales_with_refund()  # 测试演出: 2 paid orders, 1 refund; seller 李娜: 2 window payments, 1 refund
    await _rule("refund_spike", min_count=1, threshold=30, notify="risk@example.cn")
    with smtp_server(monkeypatch) as mailbox:
        first, second = await asyncio.gather(risk.evaluate(), risk.evaluate())  # two workers at once
        raised = first + second
        assert sorted(a["subject"] for a in raised) == ["event: 测试演出", "seller: 李娜"]
        assert {a["value"] for a in raised} == {50}
        assert len(mailbox.messages) == 2 and mailbox.messages[0].rcpt_tos == ["risk@example.cn"]
        mail = mailbox.emails()[0]  # in both languages: the addresses are not staff with a language of their own
        assert "风险预警：活动或售票员退票激增" in mail["Subject"]
        assert "Risk alert: Refund spike per event or seller" in mail["Subject"]
        body = mail.get_body().get_content()
        assert "请在票务中心首页" in body and "Acknowledge it with a note" in body and "threshold 30" in body
        assert await risk.evaluate() == []  # the same window: not raised again
    assert await RiskAlert.count().where(RiskAlert.emailed_at.is_not_null()) == 2
    await _rule("refund_spike", threshold=60)
    await RiskAlert.delete().where(RiskAlert.rule == "refund_spike")
    assert await risk.evaluate() == []  # 50% is under the new threshold
    await _rule("refund_spike", threshold=30)
    await risk.evaluate()

    async with signed_in("supervisor", language="en") as client:
        panel = await client.get("/reports/alerts/open")
        assert "Refund spike per event or seller" in panel.text and "1 refunds against 2 paid orders" in panel.text
        home = await client.get("/")
        assert 'hx-get="/reports/alerts/open"' in home.text
        alert = await RiskAlert.select().order_by(RiskAlert.id).first()
        empty = await post_form(client, f"/reports/alerts/{alert['id']}/acknowledge", {"note": " "})
        assert empty.status_code == 422 and "Write what was found or done" in empty.text
        done = await post_form(
            client,
            f"/reports/alerts/{alert['id']}/acknowledge",
            {"note": "客户集体退票，已核实", "next": "/"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/"
        again = await post_form(client, f"/reports/alerts/{alert['id']}/acknowledge", {"note": "again"})
        assert again.status_code == 409
        history = await client.get("/reports/alerts")
        assert "客户集体退票，已核实" in history.text
        panel = await client.get("/reports/alerts/open")
        assert f'data-alert="{alert["id"]}"' not in panel.text
    assert await RiskAlert.count() == 2  # the acknowledged one stays
    entry = await AuditEntry.select().where(AuditEntry.action == "risk.acknowledge").first()
    assert entry["object_id"] == str(alert["id"])


async def test_a_refund_to_another_means_than_the_payment_is_an_alert():
    ids = await sales_with_refund()
    assert await risk.evaluate() == []  # the refund went back in cash, as paid
    order = await Order.select(Order.id).where(Order.code == ids["card_order"]).first()
    # A refund paid out in cash on an order paid by card (what the rule watches for).
    await ledger.post(SELLER, utcnow(), order["id"], [ledger.Movement(ledger.REFUND, -5000, "cash")])
    raised = await risk.evaluate()
    assert [(a["rule"], a["detail"]["paid"], a["detail"]["refunded"], a["value"]) for a in raised] == [
        ("refund_other_means", "card", "cash", 5000)
    ]


async def test_one_sellers_concession_share_far_over_the_others_is_an_alert():
    ids = await sales_with_refund()
    await _rule("discount_share", min_count=3, threshold=25)
    student = ItemRequest(
        price_class_id=ids["ga_class"], quantity=1, concession="student", id_type="student_card", id_number="S1234567"
    )
    for _ in range(3):
        order = await create_order(
            ADMIN_ACTOR, session_id=ids["ga_session"], channel="box_office", buyer=BUYER, items=[student]
        )
        await approve_order(OTHER_SUPERVISOR, order.code)  # a concession order waits for an auditor
        await confirm_window_payment(SUPERVISOR, order.code, "card", reference="88020461")
    raised = await risk.evaluate()
    assert [(a["rule"], a["detail"]["name"], a["value"]) for a in raised] == [("discount_share", "张伟", 100)]
    assert raised[0]["detail"]["norm"] == 0.0


async def test_a_failed_payment_spike_is_an_alert():
    ids = await sales_with_refund()
    await _rule("failed_payment_spike", min_count=3, threshold=50)
    order = await Order.select(Order.id).where(Order.code == ids["card_order"]).first()
    now = utcnow()
    for i in range(4):
        await Payment.insert(
            Payment(
                order=order["id"],
                method="sandbox",
                amount_fen=100,
                status="failed" if i else "succeeded",
                reference=f"SBX-{i}",
                created_at=now,
            )
        )
    raised = await risk.evaluate()
    assert [(a["rule"], a["value"], a["detail"]) for a in raised] == [
        ("failed_payment_spike", 75, {"failed": 3, "started": 4})
    ]


async def test_rules_are_edited_as_data():
    async with signed_in("supervisor", language="en") as client:
        page = await client.get("/reports/alerts")
        assert 'data-rule="cash_variance"' in page.text and 'data-rule="refund_spike"' in page.text
        saved = await post_form(
            client,
            "/reports/alerts/rules/refund_spike",
            {"threshold": "40", "min_count": "3", "window_minutes": "30", "active": "on", "notify": "a@example.cn"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        bad = await post_form(client, "/reports/alerts/rules/refund_spike", {"threshold": "x1", "notify": ""})
        assert bad.status_code == 422
        bad = await post_form(client, "/reports/alerts/rules/refund_spike", {"threshold": "5", "notify": "not mail"})
        assert bad.status_code == 422 and "is not an e-mail address" in bad.text
        cash = await post_form(
            client, "/reports/alerts/rules/cash_variance", {"threshold": "100", "active": "on"}, follow_redirects=False
        )
        assert cash.status_code == 303
    rule = await RiskRule.select().where(RiskRule.code == "refund_spike").first()
    assert (rule["threshold"], rule["min_count"], rule["window_minutes"], rule["notify"]) == (40, 3, 30, "a@example.cn")
    assert await AuditEntry.count().where(AuditEntry.action == "risk.rule") == 2
    async with signed_in("auditor") as auditor:
        assert (await auditor.get("/reports/alerts")).status_code == 403
