"""A venue's own time zone (issue 15): a session at a Tokyo venue shows in Tokyo time at the box office, in
the shop, in the e-mail and the PDF, on the gate's verdicts and its tablet page; the partner API keeps UTC."""

from __future__ import annotations

import datetime as dt

from db.catalog import operations as catalog
from db.gate.redeem import redeem
from db.sales.delivery.operations import ticket_email
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.queries import get_order
from db.sales.tickets.documents import render_tickets_pdf, with_rules
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import AUTH, BUYER, pdf_text, sales_catalog
from tests.sales.ui_support import staff_client
from tests.shop.support import shop_client


async def tokyo_session() -> dict:
    """A concert at a Tokyo venue starting at 10:00 UTC the day after tomorrow: 19:00 in Tokyo, 18:00 in Shanghai."""
    venue = await catalog.create_venue(ADMIN_ACTOR, "东京国际论坛", "东京", timezone="Asia/Tokyo")
    gate = await catalog.add_gate(ADMIN_ACTOR, venue, "TK-A", "A 入口")
    event = await catalog.create_event(ADMIN_ACTOR, "东京音乐会", "performance")
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    session = await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            event,
            venue,
            starts,
            starts + dt.timedelta(hours=2, minutes=30),
            [catalog.PriceClassSpec("S 席", 98000, "", 30)],
            [gate],
        ),
    )
    pc = (await catalog.session_prices(session))[0]["id"]
    day = starts.astimezone(dt.timezone(dt.timedelta(hours=9))).date().isoformat()
    return {"session": session, "class": pc, "starts": starts, "tokyo": f"{day} 19:00", "shanghai": f"{day} 18:00"}


async def test_a_tokyo_session_shows_tokyo_time_wherever_staff_and_buyers_read_it(tmp_path):
    await sales_catalog()
    s = await tokyo_session()
    async with staff_client(Role.SELLER, "seller1") as client:
        listing = (await client.get("/sales/sessions?q=东京")).text
        page = (await client.get(f"/sales/sessions/{s['session']}")).text
    for text in (listing, page):
        assert s["tokyo"] in text and s["shanghai"] not in text
    assert "21:30" in page
    async with shop_client() as client:
        shop = (await client.get(f"/shop/sessions/{s['session']}")).text
        shop_list = (await client.get("/shop")).text
    assert s["tokyo"] in shop and "21:30" in shop and s["shanghai"] not in shop
    assert "19:00 · 东京国际论坛" in shop_list

    placed = await create_order(
        ADMIN_ACTOR,
        session_id=s["session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=s["class"], quantity=1)],
    )
    await confirm_window_payment(ADMIN_ACTOR, placed.code, "card", reference="88020461")
    order = await with_rules(await get_order(placed.code, contact=True))
    body = ticket_email(order, "tickets@example.cn").get_body(("plain",)).get_content()
    assert f"{s['tokyo']}（当地时间）" in body
    printed = pdf_text(render_tickets_pdf(order), tmp_path)
    assert s["tokyo"] in printed and s["shanghai"] not in printed

    async with staff_client(Role.SELLER, "seller2") as client:
        order_page = (await client.get(f"/sales/orders/{placed.code}")).text
    assert s["tokyo"] in order_page

    verdict = await redeem(order["tickets"][0]["code"], "TK-A")  # admission opens 90 minutes before: 17:30 in Tokyo
    assert verdict["reason_code"] == "too_early" and "17:30" in verdict["reason"]
    assert verdict["ticket"]["session"] == f"东京音乐会 {s['tokyo']}"
    async with staff_client(Role.GATE, "gate1") as client:
        tablet = (await client.get("/gate/scan/TK-A")).text
    assert 'data-timezone="Asia/Tokyo"' in tablet

    async with http_client() as client:
        events = {e["name"]: e for e in (await client.get("/api/v1/events", headers=AUTH)).json()}
    starts_at = events["东京音乐会"]["sessions"][0]["starts_at"]
    assert dt.datetime.fromisoformat(starts_at) == s["starts"] and starts_at.endswith(("Z", "+00:00"))
