"""The session-change pages (issue 11; R6.1, R9.3): a supervisor proposes a cancellation with its dry run,
the same supervisor cannot approve it, an auditor does; the job's page shows its progress and its report
(CSV, XLSX); the buyer's link offers keep / exchange / a free refund; box office and gate pages show the
notice; bad input is a message on the page and writes nothing."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from db.sales.aftersale.tables import Refund
from db.sessionchange import job
from db.sessionchange.operations import token
from db.sessionchange.tables import ChangeOrder, SessionChange
from tests.aftersale.support import paid_seats, staff
from tests.helpers import PASSWORD, http_client, make_staff, post_form, sign_in, utc
from tests.sales.support import sales_catalog
from tests.shop.support import shop_client


async def test_propose_with_dry_run_approve_by_a_second_person_then_progress_and_report():
    ids = await sales_catalog()
    await staff()
    await make_staff("auditor", "wangfang")
    codes = [await paid_seats(ids, ids["seats"][i : i + 2]) for i in (0, 2, 4)]
    sid = ids["seated_session"]
    async with http_client() as boss:
        await sign_in(boss, "zhangwei", PASSWORD)
        page = await boss.get(f"/changes/sessions/{sid}")
        assert page.status_code == 200 and 'data-testid="dry-orders">3<' in page.text
        bad = await post_form(boss, f"/changes/sessions/{sid}/propose", {"kind": "cancel", "reason": " "})
        assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
        bad_time = await post_form(
            boss, f"/changes/sessions/{sid}/propose", {"kind": "postpone", "reason": "检修", "starts_at": "明天"}
        )
        assert bad_time.status_code == 422 and await SessionChange.count() == 0
        made = await post_form(
            boss, f"/changes/sessions/{sid}/propose", {"kind": "cancel", "reason": "主演因病无法演出"}
        )
        assert made.status_code == 303
        url = made.headers["location"]
        change_page = await boss.get(url)
        assert 'data-testid="dry-run"' in change_page.text and 'id="dry-run-chart"' in change_page.text
        own = await post_form(boss, f"{url}/approve")
        assert own.status_code == 403 and 'data-testid="form-error"' in own.text
    async with http_client() as seller:
        await sign_in(seller, "lina", PASSWORD)
        assert (await seller.get(url)).status_code == 403
    async with http_client() as auditor:
        await sign_in(auditor, "wangfang", PASSWORD)
        assert (await post_form(auditor, f"{url}/approve")).status_code == 303
        running = await auditor.get(f"{url}/progress", headers={"HX-Request": "true"})
        assert 'hx-trigger="every 1s"' in running.text and 'data-status="running"' in running.text
        change_id = int(url.rsplit("/", 1)[1])
        await job.run(change_id)
        done = await auditor.get(f"{url}/progress", headers={"HX-Request": "true"})
        assert 'data-status="done"' in done.text and 'data-done="3"' in done.text and "every 1s" not in done.text
        assert 'data-testid="no-failures"' in done.text
        csv_text = (await auditor.get(f"{url}/report.csv")).text
        assert all(code in csv_text for code in codes)
        book = load_workbook(io.BytesIO((await auditor.get(f"{url}/report.xlsx")).content))
        assert sorted(r[0] for r in book.active.iter_rows(min_row=2, values_only=True)) == sorted(codes)
        listing = await auditor.get("/changes")
        assert "主演因病无法演出" in listing.text
    async with http_client() as seller:
        await sign_in(seller, "lina", PASSWORD)
        box_office = await seller.get(f"/sales/sessions/{sid}")
        assert 'data-testid="session-notice" data-kind="cancel"' in box_office.text
    assert await Refund.count() == 3


async def test_a_time_change_notifies_and_the_buyer_link_keeps_or_refunds_free():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["seats"][:2])
    sid = ids["seated_session"]
    async with http_client() as boss:
        await sign_in(boss, "zhangwei", PASSWORD)
        changed = await post_form(
            boss,
            f"/changes/sessions/{sid}/change",
            {"starts_at": "2099-01-01T19:30", "reason": "艺人航班调整", "venue_id": str(ids["theatre"])},
        )
        assert changed.status_code == 422 and "90" in changed.text  # the buyers' deadline would be too far
        assert await SessionChange.count() == 0
        later = utc(days=5).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
        ok = await post_form(boss, f"/changes/sessions/{sid}/change", {"starts_at": later, "reason": "艺人航班调整"})
        assert ok.status_code == 303
        change_id = int(ok.headers["location"].rsplit("/", 1)[1])
    await job.run(change_id)
    item = (await ChangeOrder.select(ChangeOrder.id).first())["id"]
    async with shop_client() as buyer:
        offer = await buyer.get(f"/shop/changes/{token(item)}")
        assert offer.status_code == 200 and 'data-testid="choose-refund"' in offer.text and "艺人航班调整" in offer.text
        assert (await buyer.get(f"/shop/orders/{code}")).status_code == 200  # the link granted the order
        forged = await buyer.get(f"/shop/changes/{item}-0000")
        assert forged.status_code == 404
        swap = await post_form(buyer, f"/shop/changes/{token(item)}", {"choice": "exchange"})
        assert swap.status_code == 303 and swap.headers["location"] == f"/shop/orders/{code}/exchange"
        kept = await post_form(buyer, f"/shop/changes/{token(item)}", {"choice": "keep"})
        assert kept.status_code == 200 and 'data-choice="keep"' in kept.text
        refunded = await post_form(buyer, f"/shop/changes/{token(item)}", {"choice": "refund"})
        assert refunded.status_code == 200 and 'data-testid="notice"' in refunded.text
        again = await post_form(buyer, f"/shop/changes/{token(item)}", {"choice": "refund"})
        assert again.status_code == 409
    refund = await Refund.select(Refund.fee_fen, Refund.refund_fen, Refund.cause).first()
    assert refund == {"fee_fen": 0, "refund_fen": 100000, "cause": "event_change"}
