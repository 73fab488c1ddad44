"""The cash variance rule (R8.4 with R8.2): a window shift whose blind count differs from the expected cash by
more than the rule's threshold is an alert, once per shift."""

from __future__ import annotations

from db.finance.shifts import count_shift, create_window, open_shift
from db.reports import risk
from db.reports.tables import RiskRule
from tests.aftersale.support import SELLER, SUPERVISOR, staff
from tests.helpers import ADMIN_ACTOR


async def test_a_shift_counted_short_over_the_threshold_is_an_alert():
    await staff()
    await risk.ensure_rules()
    await RiskRule.update({RiskRule.threshold: 1000}).where(RiskRule.code == "cash_variance")
    window = await create_window(ADMIN_ACTOR, "一号窗口")
    other = await create_window(ADMIN_ACTOR, "二号窗口")
    short = await open_shift(SELLER, window, 20000)
    exact = await open_shift(SUPERVISOR, other, 20000)
    await count_shift(SELLER, short, {10000: 1, 5000: 1}, 0, 0)  # 150 yuan of 200: 50 short
    await count_shift(SUPERVISOR, exact, {10000: 2}, 0, 0)
    raised = await risk.evaluate()
    assert [(a["rule"], a["value"], a["detail"]["name"]) for a in raised] == [("cash_variance", -5000, "李娜")]
    assert await risk.evaluate() == []
