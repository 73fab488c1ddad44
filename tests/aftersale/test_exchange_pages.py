"""Exchanges at the box office (R5.4): from the order page the seller opens the exchange page, picks the
session and class, ticks the tickets and new seats, sees the quote, takes the difference and confirms;
refusals are messages on the page and write nothing."""

from __future__ import annotations

from db.sales.aftersale.tables import Exchange
from db.sales.tables import Ticket
from db.staff.accounts import create_staff
from tests.aftersale.support import paid_seats, staff
from tests.helpers import ADMIN_ACTOR, PASSWORD, http_client, post_form, sign_in
from tests.sales.support import sales_catalog


async def test_seller_exchanges_a_ticket_for_a_dearer_seat_and_takes_the_difference():
    ids = await sales_catalog()
    await staff()
    a_seats = [s for s in ids["seats"] if s not in ids["vip_seats"]]
    code = await paid_seats(ids, a_seats[:2])
    tickets = [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)]
    session, vip_class = ids["seated_session"], ids["vip_class"]
    async with http_client() as client:
        assert (await sign_in(client, "lina", PASSWORD)).status_code in (302, 303)
        order_page = await client.get(f"/sales/orders/{code}")
        assert f"/aftersale/orders/{code}/exchange" in order_page.text
        page = await client.get(f"/aftersale/orders/{code}/exchange", params={"session_id": session})
        assert page.status_code == 200 and 'data-testid="exchange-class"' in page.text
        page = await client.get(
            f"/aftersale/orders/{code}/exchange", params={"session_id": session, "price_class_id": vip_class}
        )
        assert f'data-testid="exchange-seat-{ids["vip_seats"][0]}"' in page.text
        form = {"session_id": session, "price_class_id": vip_class, "ticket": str(tickets[0])}
        preview = await post_form(
            client,
            f"/aftersale/orders/{code}/exchange/quote",
            {**form, "seat": str(ids["vip_seats"][0])},
            headers={"HX-Request": "true"},
        )
        assert "<html" not in preview.text and "¥300.00" in preview.text  # 500 - 200: to pay
        wrong = await post_form(
            client,
            f"/aftersale/orders/{code}/exchange",
            {**form, "seat": [str(s) for s in ids["vip_seats"][:2]], "method": "cash"},
        )
        assert wrong.status_code == 422 and 'data-testid="form-error"' in wrong.text
        no_reference = await post_form(
            client, f"/aftersale/orders/{code}/exchange", {**form, "seat": str(ids["vip_seats"][0]), "method": "card"}
        )
        assert no_reference.status_code == 422 and await Exchange.count() == 0
        done = await post_form(
            client,
            f"/aftersale/orders/{code}/exchange",
            {**form, "seat": str(ids["vip_seats"][0]), "method": "cash"},
        )
        assert done.status_code == 200 and 'data-testid="exchange-done"' in done.text, done.text
        assert "¥300.00" in done.text and 'data-testid="order-exchanges"' in done.text
        row = await Exchange.select().first()
        assert (row["difference_fen"], row["method"], row["actor_id"]) == (30000, "cash", 1)  # lina's drawer
        again = await post_form(
            client,
            f"/aftersale/orders/{code}/exchange",
            {**form, "seat": str(ids["vip_seats"][1]), "method": "cash"},
        )
        assert again.status_code == 409 and 'data-testid="form-error"' in again.text
        en = await client.get(f"/aftersale/orders/{code}/exchange", headers={"Accept-Language": "en"})
        assert "Exchange order" in en.text or "改签" in en.text
    await create_staff(ADMIN_ACTOR, "chenjie", "陈杰", "gate", PASSWORD)
    async with http_client() as client:  # a gate attendant may not
        await sign_in(client, "chenjie", PASSWORD)
        assert (await client.get(f"/aftersale/orders/{code}/exchange")).status_code in (302, 303, 401, 403)
