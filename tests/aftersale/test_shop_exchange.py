"""The customer exchanges from the order page (R5.4): the grant is the identity, the quote first, a cheaper
seat online with the difference back through the provider, the new order opens in the same browser and its
tickets reach a real SMTP server; a dearer one is refused with where to pay; a stranger gets the lookup form."""

from __future__ import annotations

import re

from db.audit.tables import AuditEntry
from db.finance.tables import LedgerEntry
from db.sales.aftersale import policies
from db.sales.aftersale.rules import Rules, Tier
from db.sales.aftersale.tables import Exchange
from db.sales.tables import Ticket
from db.sessionchange.operations import change_session, token
from db.sessionchange.tables import ChangeOrder
from tests.aftersale.support import SUPERVISOR, paid_seats, staff
from tests.helpers import post_form, utc
from tests.shop.support import hold, order_code, pay_through_checkout, sales_catalog, shop_client
from tests.smtp import smtp_server


async def test_customer_exchanges_for_a_cheaper_seat_and_a_dearer_one_is_sent_to_the_window(monkeypatch):
    ids = await sales_catalog()
    vip = ids["vip_seats"]
    a_seats = [s for s in ids["seats"] if s not in vip]
    session = ids["seated_session"]
    with smtp_server(monkeypatch) as mailbox:
        async with shop_client() as client:
            code = order_code(await hold(client, session, seat_id=[str(vip[0])]))
            page = await pay_through_checkout(client, code)
            assert 'data-testid="shop-exchange"' in page.text
            choose = await client.get(
                f"/shop/orders/{code}/exchange", params={"session_id": session, "price_class_id": ids["a_class"]}
            )
            assert choose.status_code == 200 and f'data-testid="exchange-seat-{a_seats[0]}"' in choose.text
            form = {"session_id": session, "price_class_id": ids["a_class"], "seat": str(a_seats[0])}
            quote = await post_form(client, f"/shop/orders/{code}/exchange/quote", form, headers={"HX-Request": "true"})
            assert "¥300.00" in quote.text  # 500 carried, 200 the new seat: 300 back
            unconfirmed = await post_form(client, f"/shop/orders/{code}/exchange", form)
            assert 'data-testid="form-error"' in unconfirmed.text and await Exchange.count() == 0
            before = len(mailbox.emails())
            done = await post_form(client, f"/shop/orders/{code}/exchange", {**form, "confirm": "yes"})
            assert done.status_code == 200 and 'data-testid="notice"' in done.text and "¥300.00" in done.text
            row = await Exchange.select().first()
            assert (row["channel"], row["method"], row["difference_fen"]) == ("web_shop", "sandbox", -30000)
            new_code = (await Exchange.select(Exchange.new_order.code).first())["new_order.code"]
            assert (await client.get(f"/shop/orders/{new_code}")).status_code == 200  # granted to this browser
            new_ticket = await Ticket.select().where(Ticket.order.code == new_code).first()
            assert new_ticket["seat"] == a_seats[0] and new_code in done.text  # the new order's page
            # Back up to VIP costs more: refused online, nothing written.
            up = {"session_id": session, "price_class_id": ids["vip_class"], "seat": str(vip[1]), "confirm": "yes"}
            dearer = await post_form(client, f"/shop/orders/{new_code}/exchange", up)
            assert dearer.status_code == 409 and "售票窗口" in dearer.text
            assert await Exchange.count() == 1
        async with shop_client(address="198.51.100.9") as stranger:
            other = await post_form(stranger, f"/shop/orders/{new_code}/exchange", {**form, "confirm": "yes"})
            assert 'data-testid="shop-exchange-form"' not in other.text and await Exchange.count() == 1
        mails = mailbox.emails()[before:]
    assert any(new_code in m["Subject"] for m in mails)
    back = await LedgerEntry.select().where(LedgerEntry.kind == "price_difference").first()
    assert (back["amount_fen"], back["method"]) == (-30000, "sandbox")
    assert await AuditEntry.exists().where(AuditEntry.action == "exchange.provider")


async def test_the_exchange_chosen_from_a_session_change_link_is_fee_free():
    """R6.1: after the organiser moves the session, the buyer's link offers an exchange without the rules' exchange
    fee (the waiver, as its free refund); the same exchange before choosing it there costs the fee."""
    ids = await sales_catalog()
    await staff()
    fee_rules = Rules((Tier(0, 5),), exchange_tiers=(Tier(0, 10),)).as_json()  # exchanges cost 10%
    await policies.save_version(SUPERVISOR, fee_rules, reason="改签收取手续费", event_id=ids["show"])
    a_seats = [s for s in ids["seats"] if s not in ids["vip_seats"]]
    code = await paid_seats(ids, a_seats[:1])
    await change_session(SUPERVISOR, ids["seated_session"], reason="场馆调整", starts_at=utc(days=4))
    item = (await ChangeOrder.select(ChangeOrder.id).first())["id"]
    form = {"session_id": ids["seated_session"], "price_class_id": ids["a_class"], "seat": str(a_seats[1])}
    fee = re.compile(r'data-testid="exchange-fee">([^<]+)<')
    async with shop_client() as buyer:
        assert (await buyer.get(f"/shop/changes/{token(item)}")).status_code == 200  # the link grants the order
        quote = await post_form(buyer, f"/shop/orders/{code}/exchange/quote", form, headers={"HX-Request": "true"})
        assert fee.search(quote.text).group(1) == "¥20.00"  # the rules' 10% of ¥200
        refused = await post_form(buyer, f"/shop/orders/{code}/exchange", {**form, "confirm": "yes"})
        assert refused.status_code == 409 and await Exchange.count() == 0  # the fee would be paid at a window
        await post_form(buyer, f"/shop/changes/{token(item)}", {"choice": "exchange"})
        quote = await post_form(buyer, f"/shop/orders/{code}/exchange/quote", form, headers={"HX-Request": "true"})
        assert fee.search(quote.text).group(1) == "¥0.00"
        done = await post_form(buyer, f"/shop/orders/{code}/exchange", {**form, "confirm": "yes"})
        assert done.status_code == 200 and 'data-testid="notice"' in done.text
    row = await Exchange.select().output(load_json=True).first()
    assert (row["fee_fen"], row["difference_fen"], row["breakdown"]["lines"][0]["basis"]) == (0, 0, "waived")
