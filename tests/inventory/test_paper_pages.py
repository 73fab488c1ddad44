"""The paper stock, printing, stock-taking and promotion pages (issue 13): forms through the real app, errors
on the page with nothing written, the keyboard-wedge scan answering as a fragment, the report downloads."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from db.inventory import paper
from db.inventory.tables import CountedSerial, PaperSerial, Promotion
from tests.helpers import http_client, post_form, sign_in
from tests.inventory.paper_support import SUPERVISOR, paid_ga, staff, stock_at_windows
from tests.sales.support import sales_catalog
from tests.sales.ui_support import HX


async def test_receive_overlap_refused_on_the_page_then_print_an_order():
    ids = await sales_catalog()
    await staff()
    stock = await stock_at_windows(windows=1, per_window=5)
    before = await PaperSerial.count()
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        page = await client.get("/inventory/paper")
        assert (
            page.status_code == 200
            and 'data-testid="store-ledger"' in page.text
            and 'data-balanced="true"' in page.text
        )
        csv = await client.get("/inventory/paper/ledger/export?format=csv")  # the ledger as a file, both formats
        assert csv.status_code == 200 and csv.text.startswith("\ufeff类别") and "通用票纸" in csv.text
        xlsx = await client.get("/inventory/paper/ledger/export?format=xlsx")
        sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
        assert [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == ["类别", "地点"]
        assert (await client.get("/inventory/paper/ledger/export?format=pdf")).status_code == 422
        clash = await post_form(
            client,
            "/inventory/paper/moves",
            {"kind": "receive", "category": "通用票纸", "first": "100100", "last": "100300", "store": stock["store"]},
        )
        assert clash.status_code == 409 and "与已入库的号段重叠" in clash.text
        bad = await post_form(
            client, "/inventory/paper/moves", {"kind": "receive", "category": "通用票纸", "first": "x"}
        )
        assert bad.status_code == 422
        assert await PaperSerial.count() == before
        await sign_in(client, "lina")  # the seller prints at the window
        assert (await client.get("/inventory/paper")).status_code in (302, 303, 403)
        code = await paid_ga(ids, quantity=2)
        printed = await post_form(
            client, "/inventory/print", {"code": code, "window": stock["windows"][0], "category": "通用票纸"}
        )
        assert printed.status_code == 200 and "序列号 100001" in printed.text and "序列号 100002" in printed.text


async def test_a_stock_take_with_scans_and_its_reports():
    await staff()
    store = await paper.add_location(SUPERVISOR, "库房", "store")
    await paper.receive(SUPERVISOR, "通用票纸", 1, 5, store)
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        started = await post_form(client, "/inventory/stocktakes", {"location": store, "period": "monthly"})
        assert started.status_code == 303
        url = started.headers["location"]
        page = await client.get(url)
        assert 'data-testid="scan-field"' in page.text and "inventory/stocktake.js" in page.text
        ok = await post_form(client, f"{url}/scan", {"scan": "3", "category": "通用票纸"}, headers=HX)
        assert ok.status_code == 200 and 'data-testid="last-scan"' in ok.text and "<html" not in ok.text
        unknown = await post_form(client, f"{url}/scan", {"scan": "通用票纸:99", "category": "通用票纸"}, headers=HX)
        assert unknown.status_code == 422 and "从未入库" in unknown.text
        await post_form(client, f"{url}/range", {"category": "通用票纸", "first": "1", "last": "4"}, headers=HX)
        assert await CountedSerial.count() == 4
        await post_form(client, f"{url}/close")
        closed = await client.get(url)
        assert closed.text.count('data-testid="variance"') == 1 and "盘亏" in closed.text
        pdf = await client.get(f"{url}/report.pdf")
        xlsx = await client.get(f"{url}/report.xlsx")
        assert pdf.content.startswith(b"%PDF") and xlsx.content.startswith(b"PK")


async def test_a_promotion_made_on_its_page_shows_at_the_box_office_and_in_the_shop():
    ids = await sales_catalog()
    await staff()
    now = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    window = {
        "valid_from": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        form = {
            "name": "工作日特惠",
            "price_classes": [ids["ga_class"]],
            "kind": "percent",
            "value": "20",
            "limit": "30",
            "channels": ["box_office", "web_shop"],
            **window,
        }
        assert (await post_form(client, "/inventory/promotions", {**form, "value": "95"})).status_code == 422
        made = await post_form(client, "/inventory/promotions", form)
        assert made.status_code == 303 and await Promotion.count() == 1
        promo = (await Promotion.select(Promotion.id).first())["id"]
        base = f"/sales/sessions/{ids['ga_session']}"
        qty = {f"qty_{ids['ga_class']}": "1"}
        details = await post_form(client, f"{base}/order/details", qty, headers=HX)
        assert 'data-testid="promotion"' in details.text and "工作日特惠" in details.text
        priced = await post_form(client, f"{base}/order/details", {**qty, "promotion": promo}, headers=HX)
        assert "¥40.00" in priced.text
        shop = await client.get(f"/shop/sessions/{ids['ga_session']}")
        assert "工作日特惠" in shop.text and 'data-testid="promotion-prices"' not in shop.text
        assert f'hx-post="/shop/sessions/{ids["ga_session"]}/preview"' in shop.text
        chosen = await post_form(client, f"/shop/sessions/{ids['ga_session']}/preview", {**qty, "promotion": promo})
        price = chosen.text[chosen.text.index(f'data-testid="promotion-price-{ids["ga_class"]}"') :]
        assert price.startswith(f'data-testid="promotion-price-{ids["ga_class"]}">¥40.00<')  # the order's price
