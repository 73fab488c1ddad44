"""Shifts at the window (issue 12, R8.2 账实相符): every window movement in the seller's open shift, the card or
mobile terminal's reference required, a blind count per denomination, the variance per method, a variance
over the tolerance explained by the seller and signed off by a supervisor who is not the seller, one shift per
window (two opens at once: one wins), an unclosed shift flagged the next morning, the report as a PDF."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from db.audit.tables import AuditEntry
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.finance import shifts
from db.finance.documents import shift_pdf
from db.finance.tables import LedgerEntry, Shift
from db.sales.aftersale.refunds import request_refund
from db.sales.tables import Payment
from tests.aftersale.support import paid_seats
from tests.finance.support import OTHER_SUPERVISOR, SELLER, SUPERVISOR, one_window, sales_catalog, staff, window_sale

PRICE = 5000  # the general-admission ticket of the test catalog, in fen
VIP = 50000


async def _shift_money(shift_id: int) -> dict[str, int]:
    rows = await LedgerEntry.select(LedgerEntry.method, LedgerEntry.amount_fen).where(
        (LedgerEntry.shift_id == shift_id) & LedgerEntry.kind.is_in(["payment", "refund"])
    )
    totals = {"cash": 0, "card": 0, "mobile": 0}
    for r in rows:
        totals[r["method"]] += r["amount_fen"]
    return totals


async def test_window_money_lands_in_the_open_shift_and_an_exact_count_closes_it():
    ids = await sales_catalog()
    await staff()
    window = await one_window()
    shift_id = await shifts.open_shift(SELLER, window, 50000)  # a 500 yuan float
    await window_sale(ids, SELLER, "cash", 2, tendered_fen=20000)  # 100 yuan, change 100
    await window_sale(ids, SELLER, "card", 1, reference="000731")
    await window_sale(ids, SELLER, "mobile", 3, reference="4200001234567890")
    vip = await paid_seats(ids, [ids["vip_seats"][0]])  # 500 yuan in cash, for a show in three days
    await request_refund(SELLER, vip, channel="box_office")  # cash back from the drawer
    money = await _shift_money(shift_id)
    assert money["card"] == PRICE and money["mobile"] == 3 * PRICE
    refunded = -(await LedgerEntry.select(LedgerEntry.amount_fen).where(LedgerEntry.kind == "refund").first())[
        "amount_fen"
    ]
    assert 0 < refunded <= VIP and money["cash"] == 2 * PRICE + VIP - refunded
    # the card terminal's slip number is on the ledger entry (matched later), not a tick box
    card = await LedgerEntry.select(LedgerEntry.reference).where(LedgerEntry.method == "card").first()
    assert card["reference"] == "000731"

    drawer = 50000 + 2 * PRICE + VIP - refunded
    pieces = {
        10000: drawer // 10000,
        1000: (drawer % 10000) // 1000,
        100: (drawer % 1000) // 100,
        10: drawer % 100 // 10,
    }
    assert shifts.parse_count(pieces) == drawer
    closed = await shifts.count_shift(SELLER, shift_id, pieces, PRICE, 3 * PRICE)
    assert closed["status"] == shifts.CLOSED and closed["closed_at"] is not None
    assert [v.difference_fen for v in shifts.variances(closed)] == [0, 0, 0]
    assert (closed["expected_cash_fen"], closed["expected_card_fen"], closed["expected_mobile_fen"]) == (
        drawer,
        PRICE,
        3 * PRICE,
    )
    # after the close the seller's money is no longer in that shift
    await window_sale(ids, SELLER, "card", 1, reference="000732")
    assert (await _shift_money(shift_id))["card"] == PRICE
    assert await AuditEntry.count().where(AuditEntry.action.is_in(["shift.open", "shift.count"])) == 2


async def test_card_or_mobile_without_the_terminal_reference_is_refused_and_nothing_is_paid():
    ids = await sales_catalog()
    await staff()
    for method, reference in (("card", ""), ("mobile", "12"), ("card", "12 34; DROP")):
        with pytest.raises(InvalidInput) as refused:
            await window_sale(ids, SELLER, method, reference=reference)
        assert refused.value.field == "reference"
    assert await Payment.count() == 0 and await LedgerEntry.count() == 0


async def test_a_variance_over_the_tolerance_needs_an_explanation_and_another_supervisors_sign_off():
    ids = await sales_catalog()
    await staff()
    window = await one_window()
    shift_id = await shifts.open_shift(SELLER, window, 10000)
    await window_sale(ids, SELLER, "cash", 1)
    await window_sale(ids, SELLER, "card", 1, reference="000731")
    # 20 yuan short in the drawer (tolerance 10 yuan by default); the card slip matches
    counted = await shifts.count_shift(SELLER, shift_id, {10000: 1, 1000: 3}, PRICE, 0)
    assert counted["status"] == shifts.REVIEW
    assert {v.method: v.difference_fen for v in shifts.variances(counted)} == {"cash": -2000, "card": 0, "mobile": 0}
    with pytest.raises(Conflict):  # counted once: no recount after the expected amount was shown
        await shifts.count_shift(SELLER, shift_id, {10000: 1, 1000: 5}, PRICE, 0)
    with pytest.raises(Conflict):  # no sign-off before the seller explains
        await shifts.sign_off(SUPERVISOR, shift_id, "")
    with pytest.raises(PermissionDenied):  # the seller never signs off
        await shifts.sign_off(SELLER, shift_id, "ok")
    with pytest.raises(PermissionDenied):  # nor explains another seller's shift
        await shifts.explain(SUPERVISOR, shift_id, "不知道")
    with pytest.raises(InvalidInput):
        await shifts.explain(SELLER, shift_id, "   ")
    await shifts.explain(SELLER, shift_id, "找零时多给了一位观众20元，已登记。")
    await shifts.sign_off(OTHER_SUPERVISOR, shift_id, "已核实监控录像")
    shift = await shifts.get_shift(shift_id)
    assert shift["status"] == shifts.CLOSED and shift["signed_off_name"] == OTHER_SUPERVISOR.name
    with pytest.raises(Conflict):
        await shifts.sign_off(SUPERVISOR, shift_id, "again")
    pdf = await shift_pdf(shift)
    assert pdf.startswith(b"%PDF") and b"WenQuanYiZenHei" in pdf  # Chinese text in the embedded CJK font


async def test_a_supervisor_cannot_sign_off_their_own_shift():
    await staff()
    shift_id = await shifts.open_shift(SUPERVISOR, await one_window(), 0)
    await shifts.count_shift(SUPERVISOR, shift_id, {10000: 1}, 0, 0)  # 100 yuan too much
    await shifts.explain(SUPERVISOR, shift_id, "备用金多放了一张")
    with pytest.raises(PermissionDenied):
        await shifts.sign_off(SUPERVISOR, shift_id, "mine")
    await shifts.sign_off(OTHER_SUPERVISOR, shift_id, "")


async def test_two_opens_at_one_window_at_once_one_wins():
    await staff()
    window = await one_window()
    for _ in range(3):
        results = await asyncio.gather(
            shifts.open_shift(SELLER, window, 10000),
            shifts.open_shift(SUPERVISOR, window, 20000),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, int)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Conflict), results
        assert await Shift.count().where(Shift.status != "closed") == 1
        winner = await Shift.select(Shift.seller).where(Shift.id == won[0]).first()
        actor = SELLER if winner["seller"] == SELLER.user_id else SUPERVISOR
        await shifts.count_shift(actor, won[0], {}, 0, 0)  # closes: nothing taken, float counted as 0
        if (await shifts.get_shift(won[0]))["status"] != shifts.CLOSED:
            await shifts.explain(actor, won[0], "测试")
            await shifts.sign_off(OTHER_SUPERVISOR, won[0], "")
    assert await Shift.count() == 3


async def test_a_second_shift_at_a_busy_window_or_for_a_busy_seller_is_refused():
    await staff()
    east, west = await one_window(), await one_window("西门2号窗口")
    await shifts.open_shift(SELLER, east, 10000)
    with pytest.raises(Conflict) as busy:
        await shifts.open_shift(SUPERVISOR, east, 10000)
    assert busy.value.params["seller"] == SELLER.name
    with pytest.raises(Conflict):
        await shifts.open_shift(SELLER, west, 10000)
    assert await Shift.count() == 1


async def test_payments_during_the_count_are_either_in_the_count_or_not_in_the_shift():
    ids = await sales_catalog()
    await staff()
    shift_id = await shifts.open_shift(SELLER, await one_window(), 0)
    sales = [window_sale(ids, SELLER, "card", 1, reference=f"00{n:04d}") for n in range(8)]
    results = await asyncio.gather(
        *sales[:4], shifts.count_shift(SELLER, shift_id, {}, 0, 0), *sales[4:], return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    shift = await shifts.get_shift(shift_id)
    in_shift = await LedgerEntry.count().where((LedgerEntry.shift_id == shift_id) & (LedgerEntry.kind == "payment"))
    assert shift["expected_card_fen"] == in_shift * PRICE  # nothing attached after the count
    assert await LedgerEntry.count().where(LedgerEntry.kind == "payment") == 8


async def test_when_the_policy_requires_a_shift_window_money_without_one_is_refused():
    ids = await sales_catalog()
    await staff()
    await shifts.set_policy(SUPERVISOR, 500, True)
    with pytest.raises(Conflict):
        await window_sale(ids, SELLER, "card", reference="000731")
    assert await Payment.count() == 0 and await LedgerEntry.count() == 0
    await shifts.open_shift(SELLER, await one_window(), 0)
    await window_sale(ids, SELLER, "card", reference="000731")
    assert await LedgerEntry.count().where(LedgerEntry.shift_id.is_not_null()) == 1


async def test_a_shift_not_closed_is_flagged_the_next_morning_once():
    await staff()
    window = await one_window()
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    old = await shifts.open_shift(SELLER, window, 0, now=yesterday)
    assert await shifts.flag_unclosed() == 1
    assert await shifts.flag_unclosed() == 0  # flagged once
    assert (await shifts.get_shift(old))["flagged_at"] is not None
    assert await AuditEntry.count().where(AuditEntry.action == "shift.flag") == 1


async def test_counts_with_letters_negative_or_unknown_notes_are_refused():
    with pytest.raises(InvalidInput):
        shifts.parse_count({10000: -1})
    with pytest.raises(InvalidInput):
        shifts.parse_count({300: 1})
    assert shifts.parse_count({10000: 2, 50: 3}) == 20150
