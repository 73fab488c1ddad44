"""Stock alerts as data (issue 13, R4.2): a shortage or a slow sale is raised once per rule, class and channel
(not on every sale, not twice when two checks race), e-mailed to the supervisor over real SMTP, and
acknowledged with a note."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from db.core.errors import Conflict, InvalidInput
from db.inventory import alerts, allocations
from db.inventory.monitor import Figures, forecast, session_monitor
from db.inventory.tables import Alert
from tests.inventory.support import SUPERVISOR, buy, inventory_catalog
from tests.smtp import smtp_server

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _rule(**kw) -> alerts.Rule:
    base = dict(id=1, kind="shortage", session=None, channel="", remaining_below=None, percent_below=None,
                hours_before=0, target_percent=None, notify_email="")  # fmt: skip
    return alerts.Rule(**(base | kw))


def _figures(capacity=100, sold=0, remaining=100) -> Figures:
    return Figures(capacity, 0, 0, sold, remaining, 0, 0, None)


def test_the_rules_cross_where_they_say():
    short = _rule(remaining_below=10, hours_before=24)
    assert alerts.crossed(short, _figures(remaining=9), hours_left=48)
    assert not alerts.crossed(short, _figures(remaining=10), hours_left=48)
    assert not alerts.crossed(short, _figures(remaining=9), hours_left=12)  # too close to the session to act
    by_share = _rule(percent_below=20)
    assert alerts.crossed(by_share, _figures(remaining=19), hours_left=1)
    assert not alerts.crossed(by_share, _figures(remaining=20), hours_left=1)
    slow = _rule(kind="slow_sale", target_percent=50, hours_before=72)
    assert alerts.crossed(slow, _figures(sold=49), hours_left=70)
    assert not alerts.crossed(slow, _figures(sold=49), hours_left=80)  # not yet at that point of the curve
    assert not alerts.crossed(slow, _figures(sold=50), hours_left=70)
    assert not alerts.crossed(slow, _figures(sold=0), hours_left=-1)  # started: nothing to act on


def test_the_sell_out_forecast_follows_the_pace():
    assert forecast(100, 50, 0, NOW) == NOW + dt.timedelta(hours=2)
    assert forecast(100, 0, 240, NOW) == NOW + dt.timedelta(hours=10)  # no sale this hour: the day's pace
    assert forecast(100, 0, 0, NOW) is None and forecast(0, 50, 50, NOW) is None


async def test_a_shortage_is_raised_once_e_mailed_and_acknowledged_with_a_note(monkeypatch):
    ids = await inventory_catalog()
    await alerts.create_rule(SUPERVISOR, "shortage", remaining_below=45, notify_email="zhangwei@example.cn")
    with smtp_server(monkeypatch) as mailbox:
        await buy(ids, "box_office", 5)
        assert await alerts.check(await session_monitor(ids["ga_session"])) == []  # 45 left: not below
        await buy(ids, "box_office", 1)
        monitor = await session_monitor(ids["ga_session"])
        raced = await asyncio.gather(*(alerts.check(monitor) for _ in range(5)))  # five watchers at once
        assert sum(len(r) for r in raced) == 1
        await buy(ids, "box_office", 1)
        assert await alerts.check(await session_monitor(ids["ga_session"])) == []  # raised once, not per sale
        assert len(mailbox.messages) == 1
        mail = mailbox.emails()[0]
        assert mail["To"] == "zhangwei@example.cn" and "库存预警" in mail["Subject"] and "剩余 44" in mail.get_content()
    alert = await Alert.select().where(Alert.kind == "shortage").output(load_json=True).first()
    assert alert["emailed_at"] is not None and alert["figures"]["remaining"] == 44
    with pytest.raises(InvalidInput):
        await alerts.acknowledge(SUPERVISOR, alert["id"], " ")
    await alerts.acknowledge(SUPERVISOR, alert["id"], "已申请从预留票补货")
    with pytest.raises(Conflict):
        await alerts.acknowledge(SUPERVISOR, alert["id"], "again")
    assert await alerts.alert_rows(ids["ga_session"], open_only=True) == []


async def test_a_slow_sale_and_a_channel_shortage(monkeypatch):
    ids = await inventory_catalog()
    await allocations.create_allocation(SUPERVISOR, ids["ga_class"], "box_office", 10)
    await alerts.create_rule(SUPERVISOR, "shortage", channel="box_office", percent_below=50)
    await alerts.create_rule(SUPERVISOR, "slow_sale", session_id=ids["ga_session"], hours_before=48, target_percent=20)
    with smtp_server(monkeypatch) as mailbox:
        await buy(ids, "box_office", 6)  # 4 of the window's 10 left; 6 of 50 sold, below 20% a day before
        raised = await alerts.check(await session_monitor(ids["ga_session"]))
        assert len(raised) == 2 and len(mailbox.messages) == 2
        texts = [mail.get_content() for mail in mailbox.emails()]
        assert any("渠道：售票窗口" in text for text in texts) and not any("box_office" in text for text in texts)
    kinds = {(r["kind"], r["channel"]) for r in await Alert.select(Alert.kind, Alert.channel)}
    assert kinds == {("shortage", "box_office"), ("slow_sale", "")}


async def test_a_failed_e_mail_is_recorded_on_the_alert_and_the_alert_stays():
    ids = await inventory_catalog()
    await alerts.create_rule(SUPERVISOR, "shortage", remaining_below=50)
    await buy(ids, "box_office", 1)  # SMTP points at a closed port in tests (tests/conftest.py)
    assert len(await alerts.check(await session_monitor(ids["ga_session"]))) == 1
    alert = await Alert.select(Alert.emailed_at, Alert.email_error).first()
    assert alert["emailed_at"] is None and alert["email_error"]


async def test_bad_rules_are_refused_with_the_field_named():
    await inventory_catalog()
    for kw, field in (
        ({"kind": "shortage"}, "remaining_below"),
        ({"kind": "slow_sale"}, "target_percent"),
        ({"kind": "shortage", "percent_below": 101}, "percent_below"),
        ({"kind": "shortage", "remaining_below": 1, "notify_email": "no-at-sign"}, "notify_email"),
        ({"kind": "panic"}, "kind"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await alerts.create_rule(SUPERVISOR, **kw)
        assert refused.value.field == field
