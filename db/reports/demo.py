"""Demo data for the reports: the risk rules with the supervisor's address (the refund rule sensitive enough to
fire on the demo's refunds), a daily sales report e-mailed to the auditor and the supervisor, and one check of
the rules so that the home page shows what it raised. Safe to run twice."""

from __future__ import annotations

from db.core.actor import Actor
from db.reports import risk, schedules
from db.reports.tables import ReportSchedule, RiskRule
from db.staff.tables import StaffUser


async def load(actor: Actor) -> None:
    supervisor = (
        await StaffUser.select(StaffUser.id, StaffUser.display_name, StaffUser.role)
        .where(StaffUser.username == "zhangwei")
        .first()
    )
    if supervisor is None:
        return
    boss = Actor(supervisor["id"], supervisor["display_name"], supervisor["role"])
    await risk.ensure_rules()
    first = not await RiskRule.exists().where(RiskRule.updated_by_name == boss.name)
    if first:
        await risk.set_rule(
            boss,
            "refund_spike",
            threshold=30,
            min_count=1,
            window_minutes=1440,
            active=True,
            notify="zhangwei@ticketcenter.example.cn",
        )
    if not await ReportSchedule.exists():
        await schedules.create(
            boss,
            name="每日销售日报",
            report="sales/day_channel_event",
            frequency="daily",
            weekday=0,
            hour=7,
            recipients="wangfang wangfang@ticketcenter.example.cn\nzhangwei zhangwei@ticketcenter.example.cn",
        )
    if first:
        await risk.evaluate()
