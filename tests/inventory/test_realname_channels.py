"""Real-name sessions through every channel (issue 13): the box office collects a holder per ticket on the order
form, the shop a line per ticket, the partner API an additive `holders` list; a duplicate ID is a clear message
on the page (409 problem body in the API) with nothing written; the supervisor's compliance page."""

from __future__ import annotations

from db.audit.tables import AuditEntry
from db.catalog.tables import EventSession
from db.inventory import realname
from db.inventory.tables import TicketHolder
from db.sales.tables import Order, Ticket
from tests.helpers import http_client, post_form, sign_in, utc
from tests.inventory.paper_support import SUPERVISOR, staff
from tests.inventory.test_realname import resident_id
from tests.sales.support import AUTH, sales_catalog
from tests.sales.ui_support import HX
from tests.shop.support import hold, order_code, pay_through_checkout, shop_client

BOX_BUYER = {"buyer_name": "王小明", "buyer_phone": "13800138000", "buyer_email": "xiaoming@example.cn"}


async def test_the_box_office_collects_each_holder_and_refuses_a_duplicate_id_on_the_page():
    ids = await sales_catalog()
    await staff()
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=0)
    qty = {f"qty_{ids['ga_class']}": "2"}
    base = f"/sales/sessions/{ids['ga_session']}"
    async with http_client() as client:
        await sign_in(client, "lina")
        details = await post_form(client, f"{base}/order/details", qty, headers=HX)
        key = f"g{ids['ga_class']}"
        assert f'name="holder_name_{key}_0"' in details.text and f'name="holder_id_{key}_1"' in details.text
        holders = {
            f"holder_name_{key}_0": "王小明",
            f"holder_id_{key}_0": resident_id(1),
            f"holder_name_{key}_1": "李小红",
            f"holder_id_{key}_1": resident_id(2),
        }
        missing = await post_form(client, f"{base}/orders", {**qty, **BOX_BUYER}, headers=HX)
        assert missing.status_code == 422 and 'data-testid="form-error"' in missing.text, missing.text[-3000:]
        assert "请输入持票人姓名" in missing.text
        placed = await post_form(client, f"{base}/orders", {**qty, **BOX_BUYER, **holders}, headers=HX)
        assert placed.status_code in (200, 201) and placed.headers["HX-Redirect"].startswith("/sales/orders/")
        again = await post_form(client, f"{base}/orders", {**qty, **BOX_BUYER, **holders}, headers=HX)
        assert again.status_code == 409 and "已持有本场次的票" in again.text
    assert await Order.count() == 1 and await TicketHolder.count() == 2


async def test_the_shop_takes_one_holder_line_per_ticket():
    ids = await sales_catalog()
    await staff()
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=0)
    async with shop_client() as client:
        page = await client.get(f"/shop/sessions/{ids['ga_session']}")
        assert 'data-testid="holders"' in page.text
        qty = {f"qty_{ids['ga_class']}": "2"}
        short = await hold(client, ids["ga_session"], holders=f"王小明 {resident_id(1)}", **qty)
        assert short.status_code == 422 and "2 张票" in short.text
        code = order_code(
            await hold(client, ids["ga_session"], holders=f"王小明 {resident_id(1)}\n李小红，{resident_id(2)}", **qty)
        )
    names = [r["name"] for r in await TicketHolder.select(TicketHolder.name).where(TicketHolder.order.code == code)]
    assert names == ["王小明", "李小红"]


async def test_the_partner_api_takes_holders_and_answers_a_duplicate_with_a_problem():
    ids = await sales_catalog()
    await staff()
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=0)
    body = {
        "session_id": ids["ga_session"],
        "items": [{"price_class_id": ids["ga_class"], "quantity": 1}],
        "buyer": {"name": "王小明", "phone": "13800138000"},
    }
    async with http_client() as client:
        none = await client.post("/api/v1/orders", json=body, headers=AUTH)
        assert none.status_code == 422 and none.json()["detail"]
        with_holder = {**body, "holders": [{"name": "王小明", "id_number": resident_id(1)}]}
        made = await client.post("/api/v1/orders", json=with_holder, headers=AUTH)
        assert made.status_code == 201, made.text
        paid = await client.post(f"/api/v1/orders/{made.json()['code']}/pay", headers=AUTH)
        assert paid.status_code == 200
        dup = await client.post("/api/v1/orders", json=with_holder, headers=AUTH)
        assert dup.status_code == 409 and "1101" in dup.json()["detail"] and resident_id(1) not in dup.text
    bound = await TicketHolder.select(TicketHolder.ticket).first()
    assert bound["ticket"] == paid.json()["tickets"][0]["id"]  # bound on the partner's (fast) payment path too


async def test_the_compliance_page_shows_the_share_and_a_chart():
    ids = await sales_catalog()
    await staff()
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        bad = await post_form(
            client,
            "/inventory/realname",
            {"session_id": ids["ga_session"], "approved_capacity": "10", "reserved": "20"},
        )
        assert bad.status_code == 422 and "预留票数不能超过核准容量" in bad.text
        made = await post_form(
            client,
            "/inventory/realname",
            {"session_id": ids["ga_session"], "approved_capacity": "50", "reserved": "10"},
        )
        assert made.status_code == 303
        page = await client.get("/inventory/realname")
        assert 'id="realname-chart"' in page.text and "80.0%" in page.text and 'data-testid="public-short"' in page.text
        csv = await client.get("/inventory/realname.csv")
        assert csv.status_code == 200 and "80.0" in csv.text
        monitor = await client.get(f"/inventory/monitor/{ids['ga_session']}")  # the same figures in the monitor
        tiles = monitor.text[monitor.text.index('data-testid="compliance"') :]
        assert 'data-testid="public-percent">80.0%<' in tiles and 'data-testid="unbound">0<' in tiles
        await sign_in(client, "lina")
        assert (await client.get("/inventory/realname")).status_code in (302, 303, 403)


async def test_a_holder_changes_once_on_the_order_pages_before_the_cut_off():
    """The buyer changes one holder on the shop order page, the seller another at the box office; each shows
    masked, a second change or an ID that holds another ticket is refused on the page, and nothing changes
    after the cut-off (24 h before the start)."""
    ids = await sales_catalog()
    await staff()
    session = ids["ga_session"]
    await EventSession.update({EventSession.starts_at: utc(days=5), EventSession.ends_at: utc(days=5, hours=3)}).where(
        EventSession.id == session
    )
    await realname.mark(SUPERVISOR, session, approved_capacity=50, reserved=0)
    async with shop_client() as client:
        qty = {f"qty_{ids['ga_class']}": "2"}
        code = order_code(
            await hold(client, session, holders=f"王小明 {resident_id(1)}\n李小红 {resident_id(2)}", **qty)
        )
        page = await pay_through_checkout(client, code)
        assert 'data-testid="holders"' in page.text and resident_id(1) not in page.text
        assert resident_id(1)[:4] + "*" * 10 + resident_id(1)[-4:] in page.text
        tickets = [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)]
        new = {"name": "赵小刚", "id_type": "id_card", "id_number": resident_id(3)}
        changed = await post_form(client, f"/shop/orders/{code}/holders/{tickets[0]}", new)
        assert changed.status_code == 200 and "持票人已更换" in changed.text and "赵小刚" in changed.text
        again = await post_form(client, f"/shop/orders/{code}/holders/{tickets[0]}", {**new, "name": "钱小丽"})
        assert again.status_code == 409 and "已更换过一次" in again.text
    async with http_client() as client:
        await sign_in(client, "lina")
        taken = await post_form(client, f"/sales/orders/{code}/holders/{tickets[1]}", new)  # 赵小刚 holds ticket 1
        assert taken.status_code == 409 and "已持有本场次的票" in taken.text
        await EventSession.update({EventSession.starts_at: utc(hours=20)}).where(EventSession.id == session)
        late = await post_form(
            client, f"/sales/orders/{code}/holders/{tickets[1]}", {**new, "id_number": resident_id(4)}
        )
        assert late.status_code == 409 and "截止" in late.text
        await EventSession.update({EventSession.starts_at: utc(days=5)}).where(EventSession.id == session)
        done = await post_form(
            client, f"/sales/orders/{code}/holders/{tickets[1]}", {**new, "id_number": resident_id(4)}
        )
        assert done.status_code == 200 and 'data-testid="holder-row"' in done.text
    rows = await TicketHolder.select(TicketHolder.name, TicketHolder.changed_by).order_by(TicketHolder.unit)
    assert [r["name"] for r in rows] == ["赵小刚", "赵小刚"] and rows[1]["changed_by"] == "lina"
    assert await AuditEntry.count().where(AuditEntry.action == "holder.change") == 2
