"""The inventory pages over HTTP (issue 13, R4.2-R4.4): who may open them, allocating and moving stock through
the forms (bad input: a message on the page, nothing changed), and the live monitor's SSE stream delivering
the figures, with the alert the sale crossed, within a second of a sale made by another process (on PostgreSQL
heard through NOTIFY)."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import io
import os
import re
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from openpyxl import load_workbook

from db.core.engine import is_postgres
from db.inventory import alerts, allocations, live
from db.inventory.tables import Allocation, AllocationMove
from db.sales.tables import Order
from tests.gate.test_web_dashboard import events, figure
from tests.helpers import http_client, post_form, sign_in
from tests.inventory.support import SUPERVISOR, inventory_catalog

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def as_user(username: str):
    async with http_client() as client:
        await sign_in(client, username)
        yield client


async def test_who_opens_the_inventory_pages():
    ids = await inventory_catalog()
    session = ids["ga_session"]
    pages = {
        "/inventory/monitor": ("zhangwei",),
        f"/inventory/monitor/{session}": ("zhangwei",),
        f"/inventory/monitor/{session}/stream?seconds=0.2": ("zhangwei",),
        "/inventory/allocations": ("zhangwei",),
        f"/inventory/allocations/{session}": ("zhangwei",),
        "/inventory/alerts": ("zhangwei",),
        "/inventory/replenishment": ("zhangwei", "lina"),
    }
    for username in ("zhangwei", "lina"):
        async with as_user(username) as client:
            for url, allowed in pages.items():
                assert (await client.get(url)).status_code == (200 if username in allowed else 403), (username, url)


async def test_allocating_and_moving_stock_through_the_pages():
    ids = await inventory_catalog()
    session, ga = ids["ga_session"], ids["ga_class"]
    url = f"/inventory/allocations/{session}"
    async with as_user("zhangwei") as client:
        too_many = await post_form(
            client, url, {"price_class": str(ga), "channel": "outlet", "outlet": "王府井", "quantity": "51"}
        )
        assert too_many.status_code == 409 and "公共池只有 50 张空闲票" in html.unescape(too_many.text)
        assert await Allocation.count() == 0  # nothing written, not even the pool
    async with as_user("zhangwei") as client:
        bad = await post_form(client, url, {"price_class": str(ga), "channel": "outlet", "quantity": "五"})
        assert bad.status_code == 422 and "不是整数" in html.unescape(bad.text)
        done = await post_form(
            client, url, {"price_class": str(ga), "channel": "outlet", "outlet": "王府井", "quantity": "12"},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303
        done = await post_form(client, url, {"price_class": str(ga), "channel": "box_office", "quantity": "5"})
        page = html.unescape((await client.get(url)).text)
        assert 'data-channel="outlet"' in page and "王府井" in page
        ids_by = {r["channel"]: r["id"] for r in await Allocation.select(Allocation.id, Allocation.channel)}
        outlet, window = ids_by["outlet"], ids_by["box_office"]
        asked = await post_form(
            client,
            f"{url}/moves",
            {"source": str(outlet), "target": str(window), "move_quantity": "4", "reason": "窗口排长队"},
        )
        assert asked.status_code in (200, 303)
        move = (await AllocationMove.select(AllocationMove.id).first())["id"]
        own = await post_form(client, f"{url}/moves/{move}/decide", {"decision": "approve"})
        assert own.status_code == 403 and "另一人审批" in html.unescape(own.text)
    async with as_user("wangfang2") as client:
        approved = await post_form(client, f"{url}/moves/{move}/decide", {"decision": "approve", "note": "同意"})
        assert approved.status_code in (200, 303)
    sizes = {r["channel"]: r["quantity"] for r in await Allocation.select(Allocation.channel, Allocation.quantity)}
    assert sizes == {"pool": 33, "outlet": 8, "box_office": 9}
    async with as_user("lina") as client:  # the box office shows each channel's share
        page = html.unescape((await client.get(f"/sales/sessions/{session}")).text)
    shares = re.search(r'data-testid="shares">(.*?)</table>', page, re.S).group(1)
    free = dict(re.findall(r'data-channel="(\w+)">.*?data-col="available">(\d+)<', shares, re.S))
    assert free == {"pool": "33", "outlet": "8", "box_office": "9"} and "各渠道配额" in page


BUYER_PROCESS = """
import asyncio, sys
from piccolo.engine.postgres import PostgresEngine
from db.core.actor import Actor
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.tables import Order

async def main():
    if isinstance(Order._meta.db, PostgresEngine):  # as a web worker runs: the pool and the fast path
        await Order._meta.db.start_connection_pool(min_size=1, max_size=2)
    print("ready", flush=True)
    for line in sys.stdin:
        session, price_class, quantity = (int(x) for x in line.split())
        items = [ItemRequest(price_class_id=price_class, quantity=quantity)]
        order = await create_order(
            Actor(3, "李娜", "seller"), session_id=session, channel="box_office",
            buyer=Buyer("王小明", "13800138000", ""), items=items,
        )
        print(order.code, flush=True)

asyncio.run(main())
"""


async def test_the_monitor_updates_within_a_second_of_a_sale_made_by_another_process():
    ids = await inventory_catalog()
    session, ga = ids["ga_session"], ids["ga_class"]
    await allocations.create_allocation(SUPERVISOR, ga, "box_office", 20)
    await alerts.create_rule(SUPERVISOR, "shortage", remaining_below=45)
    buyer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BUYER_PROCESS, cwd=ROOT, env={**os.environ},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert (await asyncio.wait_for(buyer.stdout.readline(), 60)).strip() == b"ready"
        async with as_user("zhangwei") as client:
            stream = asyncio.create_task(client.get(f"/inventory/monitor/{session}/stream?seconds=4"))
            await asyncio.sleep(1.0)  # the stream is watching
            assert live.CHANNEL.listening == is_postgres(Order._meta.db)  # PostgreSQL: woken by NOTIFY, no polling
            for quantity in (2, 4):
                buyer.stdin.write(f"{session} {ga} {quantity}\n".encode())
                await buyer.stdin.drain()
                assert len((await asyncio.wait_for(buyer.stdout.readline(), 30)).strip()) == 10
                await asyncio.sleep(1.2)
            response = await stream
    finally:
        buyer.stdin.close()
        await buyer.wait()
    figures = [html.unescape(data) for name, data in events(response.text) if name == "figures"]
    held = [int(figure(data, "held")) for data in figures]
    assert held[0] == 0 and held[-1] == 6 and 2 in held, held
    orders = await Order.select(Order.created_at).where(Order.session == session).order_by(Order.id)
    sent = [dt.datetime.fromisoformat(re.search(r'data-as-of="([^"]+)"', data).group(1)) for data in figures]
    for order in orders:
        first_after = min(s for s in sent if s >= order["created_at"])
        assert (first_after - order["created_at"]).total_seconds() < 1.0
    # 44 left after the second sale: the shortage alert arrives with that same update, once
    assert [int(figure(data, "alert-count")) for data in figures][-1] == 1
    first_with_alert = next(data for data in figures if figure(data, "alert-count") == "1")
    assert int(figure(first_with_alert, "remaining")) == 44
    row = re.search(r'<tr data-class="\d+" data-channel="box_office".*?</tr>', figures[-1], re.S).group(0)
    assert re.search(r'data-col="remaining">14<', row)  # the window's 20 less its 6
    async with as_user("zhangwei") as client:  # the same figures as a file
        csv = (await client.get(f"/inventory/monitor/{session}/export?format=csv")).text.splitlines()
        xlsx = await client.get(f"/inventory/monitor/{session}/export?format=xlsx")
    window = next(line.split(",") for line in csv if "售票窗口" in line)
    assert window[4:7] == ["6", "0", "14"], csv  # held, sold, remaining
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert len(list(sheet.iter_rows())) == len(csv)


async def test_replenishment_through_the_pages():
    ids = await inventory_catalog()
    async with as_user("lina") as client:
        bad = await post_form(
            client, "/inventory/replenishment", {"price_class": str(ids["ga_class"]), "quantity": "0", "reason": "x"}
        )
        assert bad.status_code == 422
        asked = await post_form(
            client,
            "/inventory/replenishment",
            {"price_class": str(ids["ga_class"]), "quantity": "10", "reason": "周末加场"},
        )
        assert asked.status_code in (200, 303)
        assert (await client.post("/inventory/replenishment/1/carry-out")).status_code == 403
    async with as_user("zhangwei") as client:
        planned = await post_form(
            client, "/inventory/replenishment/1/decide",
            {"decision": "approve", "source": "promoter", "note": "主办方加票"},
        )  # fmt: skip
        assert planned.status_code in (200, 303)
        done = await post_form(client, "/inventory/replenishment/1/carry-out")
        assert done.status_code in (200, 303)
        page = html.unescape((await client.get("/inventory/replenishment")).text)
    assert 'data-status="done"' in page and "主办方新增配额" in page
