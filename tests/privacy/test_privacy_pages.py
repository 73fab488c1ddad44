"""The customer data pages (issue 14): a masked field revealed with a purpose (and refused without one),
the supervisor's log filtered by staff member, data-use requests through approval to a logged download, and
the retention setting."""

from __future__ import annotations

import re

from db.privacy.tables import DataUseDownload, Reveal
from tests.helpers import http_client, make_staff, post_form, sign_in
from tests.privacy.support import paid_orders
from tests.sales.support import sales_catalog


async def test_reveal_with_a_purpose_then_the_supervisor_reads_it_in_the_log():
    ids = await sales_catalog()
    code = (await paid_orders(ids["ga_session"], ids["ga_class"]))[0]
    await make_staff("seller", "lina")
    await make_staff("supervisor", "zhangwei")
    async with http_client() as seller:
        await sign_in(seller, "lina")
        refused = await post_form(
            seller, "/privacy/reveal", {"order": code, "field": "phone", "purpose": ""}, headers={"HX-Request": "true"}
        )
        assert "138****8000" in refused.text and "13800138000" not in refused.text
        assert "请说明" in refused.text and await Reveal.count() == 0
        shown = await post_form(
            seller,
            "/privacy/reveal",
            {"order": code, "field": "phone", "purpose": "客户来电核对"},
            headers={"HX-Request": "true"},
        )
        assert 'data-testid="revealed-phone">13800138000<' in shown.text
        assert (await seller.get("/admin/privacy")).status_code == 403
    async with http_client() as supervisor:
        await sign_in(supervisor, "zhangwei")
        page = await supervisor.get("/admin/privacy")
        assert page.status_code == 200 and "客户来电核对" in page.text and code in page.text
        assert "13800138000" not in page.text
        assert (
            len(re.findall('data-testid="reveal-row"', (await supervisor.get("/admin/privacy?staff=nobody")).text)) == 0
        )
        filtered = await supervisor.get("/admin/privacy?staff=lina", headers={"HX-Request": "true"})
        assert filtered.text.count('data-testid="reveal-row"') == 1 and "<html" not in filtered.text
        saved = await post_form(supervisor, "/admin/privacy/retention", {"keep_days": "400"}, follow_redirects=False)
        assert saved.status_code == 303
        assert 'value="400"' in (await supervisor.get("/admin/privacy")).text
        bad = await post_form(supervisor, "/admin/privacy/retention", {"keep_days": "3"})
        assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text


async def test_a_data_use_request_from_asking_to_a_logged_download():
    ids = await sales_catalog()
    await paid_orders(ids["ga_session"], ids["ga_class"])
    await make_staff("seller", "lina")
    await make_staff("supervisor", "zhangwei")
    async with http_client() as seller, http_client() as supervisor:
        await sign_in(seller, "lina")
        await sign_in(supervisor, "zhangwei")
        unknown = await post_form(
            seller,
            "/admin/privacy/requests",
            {"export": "everything", "session_id": str(ids["ga_session"]), "purpose": "年终回访"},
        )
        assert unknown.status_code == 422 and "没有这种导出" in unknown.text
        asked = await post_form(
            seller,
            "/admin/privacy/requests",
            {"export": "session_buyers", "session_id": str(ids["ga_session"]), "purpose": "演出取消电话通知"},
            follow_redirects=False,
        )
        assert asked.status_code == 303
        page = (await supervisor.get("/admin/privacy/requests")).text
        request_id = re.search(r"/admin/privacy/requests/(\d+)/decide", page).group(1)
        assert 'data-testid="download"' not in (await seller.get("/admin/privacy/requests")).text
        decided = await post_form(
            supervisor,
            f"/admin/privacy/requests/{request_id}/decide",
            {"decision": "approve", "days": "3"},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        mine = (await seller.get("/admin/privacy/requests")).text
        assert 'data-testid="download"' in mine
        csv = await seller.get(f"/admin/privacy/requests/{request_id}/download")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert "13800138000" in csv.text and csv.text.count("\n") == 4
        assert (await supervisor.get(f"/admin/privacy/requests/{request_id}/download")).status_code == 403
    assert await DataUseDownload.count() == 1
