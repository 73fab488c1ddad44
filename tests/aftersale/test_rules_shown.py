"""The rules are the buyer's contract (R5.1): shown before payment from the version in force, and on the
order page, the e-mail and the PDF from the version the tickets were sold under, in Chinese and English."""

from __future__ import annotations

from db.sales.aftersale import policies
from db.sales.aftersale.rules import Rules, Tier
from db.sales.delivery.operations import ticket_email
from db.sales.queries import get_order
from db.sales.tickets.documents import render_tickets_pdf, with_rules
from tests.aftersale.support import SUPERVISOR, paid_seats, staff
from tests.helpers import http_client
from tests.sales.support import sales_catalog

LATER = Rules((Tier(96, 7, min_fee_fen=1500),), exchange_allowed=False)


async def test_the_contract_follows_the_ticket_and_new_buyers_see_the_new_rules():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:1])
    await policies.save_version(SUPERVISOR, LATER.as_json(), reason="新规", event_id=ids["show"])
    order = await with_rules(await get_order(code, contact=True))  # the e-mail goes to the buyer
    assert any("48 小时" in line and "5%" in line for line in order["refund_rules_zh"])
    body = ticket_email(order, "tickets@example.cn").get_body(("plain",)).get_content()
    assert "退换票规则" in body and "视线受阻座位退票一律免手续费" in body
    assert render_tickets_pdf(order).startswith(b"%PDF")
    async with http_client() as client:
        shop = await client.get(f"/shop/sessions/{ids['seated_session']}", headers={"Accept-Language": "en"})
        assert "From 96 hours before the start: refund less 7% of the price." in shop.text or "96 小时" in shop.text
        assert "At least ¥15.00." in shop.text or "最低 ¥15.00" in shop.text
