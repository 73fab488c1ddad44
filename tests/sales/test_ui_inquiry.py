"""Box-office inquiry screens (R3.4 step 1, R3.2): sessions on sale with live availability per class and
price-change notices, the session page with the seat plan (free / held / sold) and its polled partials."""

from __future__ import annotations

import json
import re

from db.catalog import operations as catalog
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, http_client, utc
from tests.sales.support import BUYER, sales_catalog
from tests.sales.ui_support import HX, staff_client


async def test_inquiry_needs_sales_inquire():
    await sales_catalog()
    async with http_client() as anonymous:
        response = await anonymous.get("/sales/sessions", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    async with staff_client(Role.GATE, "gate1") as gate:
        assert (await gate.get("/sales/sessions")).status_code == 403
        assert (await gate.get("/sales/orders")).status_code == 403


async def test_sessions_list_shows_live_availability_and_price_notice():
    ids = await sales_catalog()
    await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=3)],
    )
    await catalog.schedule_price_change(ADMIN_ACTOR, ids["ga_class"], 6000, utc(hours=12), "旺季调价")
    async with staff_client(Role.SELLER, "seller1") as client:
        page = await client.get("/sales/sessions")
        assert page.status_code == 200
        assert "测试演出" in page.text and "测试景区" in page.text
        assert f'data-testid="free-{ids["ga_class"]}">剩 47 张' in page.text  # 50 less the 3 held
        assert "旺季调价" in page.text and "¥60.00" in page.text  # the announced change and its notice
        filtered = await client.get("/sales/sessions", params={"kind": "attraction"}, headers=HX)
        assert 'id="session-results"' in filtered.text and "<html" not in filtered.text
        assert "测试景区" in filtered.text and "测试演出" not in filtered.text
        by_name = await client.get("/sales/sessions", params={"q": "演出"})
        assert "测试演出" in by_name.text and "测试景区" not in by_name.text
        nothing = await client.get("/sales/sessions", params={"day": "2030-01-01"})
        assert 'data-testid="no-sessions"' in nothing.text


async def test_session_page_shows_plan_states_and_polled_partials():
    ids = await sales_catalog()
    held, sold = ids["vip_seats"][0], ids["vip_seats"][1]
    await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=held)],
    )
    paid = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=sold)],
    )
    await confirm_window_payment(ADMIN_ACTOR, paid.code, "card", reference="88020461")
    async with staff_client(Role.AUDITOR, "auditor1") as client:  # may inquire, may not sell
        page = await client.get(f"/sales/sessions/{ids['seated_session']}")
        assert page.status_code == 200
        assert 'data-testid="seat-plan"' in page.text and 'data-testid="order-tickets"' not in page.text
        assert 'class="seat seat-c0 held" ' in page.text and f'data-seat-id="{held}"' in page.text
        assert "seat seat-c0 sold" in page.text
        live = await client.get(f"/sales/sessions/{ids['seated_session']}/live", headers=HX)
        assert 'hx-trigger="every 4s"' in live.text and f'data-testid="free-{ids["vip_class"]}">3<' in live.text
        plan = await client.get(f"/sales/sessions/{ids['seated_session']}/plan", headers=HX)
        assert 'id="plan"' in plan.text and 'type="checkbox"' not in plan.text  # read-only for an auditor
    async with staff_client(Role.SELLER, "seller1") as seller:
        page = await seller.get(f"/sales/sessions/{ids['seated_session']}")
        assert 'data-testid="order-tickets"' in page.text and 'name="seat_id"' in page.text


async def test_best_seats_together_are_suggested_on_the_plan():
    ids = await sales_catalog()
    async with staff_client(Role.SELLER, "seller1") as client:
        url = f"/sales/sessions/{ids['seated_session']}/plan"
        ok = await client.get(url, params={"best_class": ids["a_class"], "best_n": "3"}, headers=HX)
        assert ok.status_code == 200 and 'data-suggested="1"' in ok.text
        keep = json.loads(re.search(r'data-keep="([^"]*)"', ok.text).group(1).replace("&#34;", '"'))
        assert len(keep) == 3 and set(keep) <= set(ids["seats"]) and not set(keep) & set(ids["vip_seats"])
        too_many = await client.get(url, params={"best_class": ids["a_class"], "best_n": "6"}, headers=HX)
        assert too_many.status_code == 422 and "该票档没有一排能连续容纳 6 个空座" in too_many.text
