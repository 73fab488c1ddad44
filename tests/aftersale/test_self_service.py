"""The customer refunds from the order page (R5.3): the lookup grant is the identity, the quote comes
first, the codes are void at once, the online payment's refund is asked of the sandbox provider (its outcome
arrives later: tests/aftersale/test_provider_refund.py), and the refund e-mail reaches a real SMTP server."""

from __future__ import annotations

from db.finance.tables import LedgerEntry
from db.gate.redeem import redeem
from db.sales.aftersale.tables import Refund
from db.sales.tables import Ticket
from tests.helpers import post_form
from tests.shop.support import hold, order_code, pay_through_checkout, sales_catalog, shop_client
from tests.smtp import smtp_server


async def test_customer_sees_the_quote_refunds_the_order_and_gets_the_email(monkeypatch):
    ids = await sales_catalog()
    a, b = ids["vip_seats"][:2]
    with smtp_server(monkeypatch) as mailbox:
        async with shop_client() as client:
            code = order_code(await hold(client, ids["seated_session"], seat_id=[str(a), str(b)]))
            page = await pay_through_checkout(client, code)
            assert 'data-testid="self-refund"' in page.text and "¥950.00" in page.text
            before = len(mailbox.emails())
            done = await post_form(client, f"/shop/orders/{code}/refund", {"confirm": "on"})
            assert done.status_code == 200 and "¥950.00" in done.text
            again = await post_form(client, f"/shop/orders/{code}/refund", {"confirm": "on"})
            assert again.status_code == 409
        async with shop_client(address="198.51.100.9") as stranger:  # no grant: the lookup form, nothing refunded
            other = await post_form(stranger, f"/shop/orders/{code}/refund", {"confirm": "on"})
            assert 'data-testid="self-refund"' not in other.text
        mails = mailbox.emails()[before:]
    refund = await Refund.select().first()
    assert (refund["status"], refund["method"], refund["channel"], refund["refund_fen"]) == (
        "approved",  # with the provider, which is not served here
        "sandbox",
        "web_shop",
        95000,
    )
    assert await Refund.count() == 1
    tickets = await Ticket.select(Ticket.code, Ticket.status).where(Ticket.order.code == code)
    assert {t["status"] for t in tickets} == {"revoked"}
    assert (await redeem(tickets[0]["code"], "T-N"))["status"] == "revoked"
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 0  # booked when the provider says done
    assert any(refund["number"] in m.get_body(("plain",)).get_content() and "退票确认" in m["Subject"] for m in mails)
