"""The after-sale staff pages (issue 11): a seller refunds at the window (find, proof, ID, single tickets,
quote, confirm), a supervisor approves and edits the rules; refusals are messages on the page."""

from __future__ import annotations

from db.sales.aftersale import policies
from db.sales.aftersale.rules import DEFAULT_RULES, Rules
from db.sales.aftersale.tables import AftersalePolicy, Refund
from db.sales.tables import Ticket
from tests.aftersale.support import SUPERVISOR, paid_seats, staff
from tests.helpers import PASSWORD, http_client, post_form, sign_in
from tests.sales.support import sales_catalog


async def _tickets(code):
    return [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)]


async def test_seller_finds_the_order_sees_the_quote_and_refunds_one_ticket():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:2])
    tickets = await _tickets(code)
    async with http_client() as client:
        assert (await sign_in(client, "lina", PASSWORD)).status_code in (302, 303)
        found = await client.get("/aftersale/refunds", params={"q": code.lower()})
        assert found.status_code == 200 and f"/aftersale/orders/{code}" in found.text
        by_phone = await client.get("/aftersale/refunds", params={"q": "13800138000"}, headers={"HX-Request": "true"})
        assert code in by_phone.text and "<html" not in by_phone.text  # the partial only
        by_id = await client.get("/aftersale/refunds", params={"q": "110101199003071234"})
        assert code in by_id.text
        page = await client.get(f"/aftersale/orders/{code}")
        assert page.status_code == 200 and 'data-testid="quote-refund"' in page.text and "¥950.00" in page.text
        preview = await post_form(
            client,
            f"/aftersale/orders/{code}/quote",
            {"scope": "tickets", "ticket": str(tickets[0])},
            headers={"HX-Request": "true"},
        )
        assert "¥475.00" in preview.text and "¥25.00" in preview.text
        refused = await post_form(
            client,
            f"/aftersale/orders/{code}/refund",
            {"scope": "tickets", "ticket": str(tickets[0]), "id_number": "110101199003071234"},
        )
        assert refused.status_code == 422 and 'data-testid="form-error"' in refused.text
        assert await Refund.count() == 0
        done = await post_form(
            client,
            f"/aftersale/orders/{code}/refund",
            {"scope": "tickets", "ticket": str(tickets[0]), "proof": "ticket", "id_number": "110101199003071234"},
        )
        assert done.status_code == 200 and 'data-testid="refund-done"' in done.text
        again = await post_form(
            client,
            f"/aftersale/orders/{code}/refund",
            {"scope": "tickets", "ticket": str(tickets[0]), "proof": "ticket", "id_number": "110101199003071234"},
        )
        assert again.status_code == 409 and "已退票" in again.text
        # The order's history words the refund in the page's language, money in yuan (issue 15).
        history = (await client.get(f"/sales/orders/{code}")).text
        assert "1 张票，退款 ¥475.00，手续费 ¥25.00" in history and "ticket(s)" not in history
        assert 'aria-label="页面路径"' in history and 'aria-label="breadcrumb"' not in history
        client.cookies.set("lang", "en")
        assert "1 ticket, refund ¥475.00, fee ¥25.00" in (await client.get(f"/sales/orders/{code}")).text
        client.cookies.set("lang", "zh_CN")
        assert (await client.get("/aftersale/policy")).status_code == 403
        assert (await client.get("/aftersale/approvals")).status_code == 403
    statuses = {t["id"]: t["status"] for t in await Ticket.select(Ticket.id, Ticket.status)}
    assert statuses[tickets[0]] == "revoked" and statuses[tickets[1]] == "issued"


async def test_supervisor_approves_another_ones_refund_and_saves_a_rules_version():
    ids = await sales_catalog()
    await staff()
    strict = Rules(DEFAULT_RULES.refund_tiers, exchange_tiers=DEFAULT_RULES.exchange_tiers, approval_above_fen=10000)
    await policies.save_version(SUPERVISOR, strict.as_json(), reason="大额审批", event_id=ids["show"])
    code = await paid_seats(ids, ids["vip_seats"][:1])
    async with http_client() as client:
        await sign_in(client, "lina", PASSWORD)
        asked = await post_form(
            client,
            f"/aftersale/orders/{code}/refund",
            {"scope": "order", "proof": "receipt", "id_number": "110101199003071234"},
        )
        assert "A supervisor approves" in asked.text or "需票务主管批准" in asked.text
    refund = await Refund.select().first()
    assert refund["status"] == "requested"
    async with http_client() as client:
        await sign_in(client, "zhangwei", PASSWORD)
        queue = await client.get("/aftersale/approvals")
        assert refund["number"] in queue.text
        approved = await post_form(client, f"/aftersale/refunds/{refund['id']}/approve")
        assert approved.status_code == 200 and 'data-testid="message"' in approved.text
        assert (await Refund.select(Refund.status).first())["status"] == "done"
        versions = await AftersalePolicy.count()
        bad = await post_form(
            client,
            "/aftersale/policy",
            {
                "scope": "kind:performance",
                "refund_hours_0": "24",
                "refund_percent_0": "5",
                "refund_hours_1": "48",
                "refund_percent_1": "20",
                "reason": "试",
            },
        )
        assert bad.status_code == 422 and "从多到少" in bad.text and await AftersalePolicy.count() == versions
        good = await post_form(
            client,
            "/aftersale/policy",
            {
                "scope": "kind:performance",
                "refund_hours_0": "72",
                "refund_percent_0": "0",
                "refund_hours_1": "24",
                "refund_percent_1": "20",
                "refund_min_1": "10",
                "refund_max_1": "100",
                "exchange_allowed": "on",
                "exchange_hours_0": "48",
                "exchange_percent_0": "5",
                "free_window_hours": "2",
                "reason": "按文旅市场发〔2023〕96号调整梯次退票",
            },
        )
        assert good.status_code == 200 and 'data-testid="message"' in good.text
    saved = (await policies.history(event_kind="performance"))[0]
    assert saved.rules.refund_tiers[1].min_fee_fen == 1000 and saved.rules.refund_tiers[1].max_fee_fen == 10000
    assert saved.created_by_name == "zhangwei" and "96号" in saved.reason
