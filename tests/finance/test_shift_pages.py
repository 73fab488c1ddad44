"""The shift pages (issue 12, R8.2): open, blind count, explanation and the supervisor's sign-off through the
forms; bad input (letters, negative notes, a busy window) answered with a message and nothing written."""

from __future__ import annotations

from db.finance.tables import Shift
from db.staff.permissions import Role
from tests.finance.support import one_window, sales_catalog, window_sale
from tests.helpers import http_client, make_staff, post_form, sign_in
from tests.sales.ui_support import HX, staff_client


async def _seller_actor():
    from db.core.actor import Actor
    from db.staff.tables import StaffUser

    row = await StaffUser.select(StaffUser.id, StaffUser.display_name).where(StaffUser.username == "seller1").first()
    return Actor(row["id"], row["display_name"], "seller")


async def test_open_count_blind_explain_and_sign_off_through_the_pages():
    ids = await sales_catalog()
    await make_staff(Role.SUPERVISOR, "boss1")
    window = await one_window()
    async with staff_client(Role.SELLER, "seller1") as seller:
        page = await seller.get("/finance/shift")
        assert page.status_code == 200 and 'data-testid="open-shift"' in page.text
        letters = await post_form(seller, "/finance/shift/open", {"window": str(window), "float": "五百"}, headers=HX)
        assert letters.status_code == 422 and 'data-testid="form-error"' in letters.text
        assert await Shift.count() == 0
        opened = await post_form(seller, "/finance/shift/open", {"window": str(window), "float": "500"}, headers=HX)
        assert opened.status_code == 200 and 'data-testid="count-form"' in opened.text
        await window_sale(ids, await _seller_actor(), "cash", 2)  # 100 yuan into the drawer
        blind = await seller.get("/finance/shift")
        assert "¥600.00" not in blind.text and 'data-testid="variances"' not in blind.text  # expected not shown
        for bad in ({"n10000": "5a"}, {"n10000": "-5"}, {"n10000": "5", "card_slip": "abc"}):
            refused = await post_form(seller, f"/finance/shift/{await _open_id()}/count", bad, headers=HX)
            assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text, bad
            assert (await Shift.select(Shift.status).first())["status"] == "open"
        counted = await post_form(
            seller, f"/finance/shift/{await _open_id()}/count", {"n10000": "5", "n1000": "8"}, headers=HX
        )
        assert counted.status_code == 200 and 'data-testid="over-tolerance"' in counted.text
        assert 'data-testid="difference-cash"' in counted.text and "-¥20.00" in counted.text
        shift_id = (await Shift.select(Shift.id).first())["id"]
        explained = await post_form(seller, f"/finance/shift/{shift_id}/explain", {"explanation": "少找零"}, headers=HX)
        assert "少找零" in explained.text
        assert (await post_form(seller, f"/finance/shifts/{shift_id}/sign-off", {"note": "x"})).status_code == 403
        pdf = await seller.get(f"/finance/shifts/{shift_id}/report.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    async with http_client() as boss:
        await sign_in(boss, "boss1")
        overview = await boss.get("/finance/shifts")
        assert f'data-testid="sign-off-{shift_id}"' in overview.text
        done = await post_form(boss, f"/finance/shifts/{shift_id}/sign-off", {"note": "已核实"})
        assert done.status_code == 200 and "已核实" in done.text
    assert (await Shift.select(Shift.status).first())["status"] == "closed"


async def test_a_second_open_at_a_busy_window_is_a_form_error():
    await sales_catalog()
    window = await one_window()
    async with staff_client(Role.SELLER, "seller1") as first:
        await post_form(first, "/finance/shift/open", {"window": str(window), "float": "100"}, headers=HX)
    async with staff_client(Role.SELLER, "seller2") as second:
        busy = await post_form(second, "/finance/shift/open", {"window": str(window), "float": "100"}, headers=HX)
        assert busy.status_code == 409 and "seller1" in busy.text
    assert await Shift.count() == 1


async def _open_id() -> int:
    return (await Shift.select(Shift.id).where(Shift.status == "open").first())["id"]
