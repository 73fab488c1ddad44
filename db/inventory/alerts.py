"""Stock alerts (R4.2): rules as data, raised once, e-mailed to the supervisor, acknowledged with a note.

- shortage: remaining below N tickets or below x % of capacity while more than T hours are left before the
  session (a shortage then can still be replenished);
- slow_sale: from T hours before the session on, sold below y % of capacity (one point of the target curve;
  several rules make the curve).

A rule names a session or none (every session) and a channel or none (the class as a whole; a channel: that
channel's own allocation of the class). `check(monitor)` evaluates the rules against the monitor's figures; an
alert's key (rule, session, class, channel) is unique, so an alert is raised once however many sales, workers
or watchers cross it at the same moment. The e-mail goes out after the alert is committed (real SMTP,
db/sales/delivery/operations.py), its outcome recorded on the alert."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from db.audit.record import record
from db.catalog.tables import EventSession
from db.core.actor import Actor
from db.core.clock import utcnow, venue_minute
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.i18n import translate
from db.core.transaction import queued_write
from db.inventory.allocations import CHANNEL_NAMES, POOL, TARGETS, clean_line
from db.inventory.monitor import Figures, SessionMonitor
from db.inventory.tables import Alert, AlertRule
from db.sales.delivery.operations import _send

log = logging.getLogger("ticketcenter.inventory")
SHORTAGE, SLOW_SALE = "shortage", "slow_sale"
KINDS = (SHORTAGE, SLOW_SALE)
SYSTEM = Actor.system("stock-monitor")


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    kind: str
    session: int | None
    channel: str
    remaining_below: int | None
    percent_below: int | None
    hours_before: int
    target_percent: int | None
    notify_email: str


def crossed(rule: Rule, figures: Figures, hours_left: float) -> bool:
    """Whether figures of a class (or a channel's allocation), `hours_left` before the session, break the rule."""
    if hours_left <= 0:
        return False  # the session has started: nothing to act on
    if rule.kind == SHORTAGE:
        if hours_left <= rule.hours_before:
            return False
        below_n = rule.remaining_below is not None and figures.remaining < rule.remaining_below
        below_pct = (
            rule.percent_below is not None
            and figures.capacity > 0
            and figures.remaining * 100 < rule.percent_below * figures.capacity
        )
        return below_n or below_pct
    if rule.kind == SLOW_SALE:
        return (
            hours_left <= rule.hours_before
            and rule.target_percent is not None
            and figures.capacity > 0
            and figures.sold * 100 < rule.target_percent * figures.capacity
        )
    return False


def _bounded(value: int | None, field: str, maximum: int) -> int | None:
    if value is not None and not 0 <= value <= maximum:
        raise InvalidInput("Enter a whole number from {min} to {max}.", field=field, min=0, max=maximum)
    return value


async def create_rule(
    actor: Actor,
    kind: str,
    *,
    session_id: int | None = None,
    channel: str = "",
    remaining_below: int | None = None,
    percent_below: int | None = None,
    hours_before: int = 0,
    target_percent: int | None = None,
    notify_email: str = "",
    now: dt.datetime | None = None,
) -> int:
    now = now or utcnow()
    if kind not in KINDS:
        raise InvalidInput("Choose the kind of alert: shortage or slow sale.", field="kind")
    if channel and channel not in TARGETS:
        raise InvalidInput("Unknown sales channel: {channel}", field="channel", channel=channel)
    _bounded(remaining_below, "remaining_below", 1_000_000)
    _bounded(percent_below, "percent_below", 100)
    _bounded(target_percent, "target_percent", 100)
    _bounded(hours_before, "hours_before", 24 * 365)
    if kind == SHORTAGE and remaining_below is None and percent_below is None:
        raise InvalidInput("Give the shortage a number of tickets or a percentage.", field="remaining_below")
    if kind == SLOW_SALE and target_percent is None:
        raise InvalidInput("Give the slow-sale rule the share sold expected by then.", field="target_percent")
    notify_email = clean_line(notify_email, field="notify_email", maximum=200)
    if notify_email and ("@" not in notify_email or " " in notify_email):
        raise InvalidInput("Enter an e-mail address like name@example.cn.", field="notify_email")
    if session_id is not None and not await EventSession.exists().where(EventSession.id == session_id):
        raise NotFound("No such session.")
    async with queued_write(AlertRule._meta.db):
        row = AlertRule(
            kind=kind, session=session_id, channel=channel, remaining_below=remaining_below,
            percent_below=percent_below, hours_before=hours_before, target_percent=target_percent,
            notify_email=notify_email, created_by_name=actor.name, created_at=now,
        )  # fmt: skip
        rule_id = (await AlertRule.insert(row).returning(AlertRule.id))[0]["id"]
        after = {"kind": kind, "session": session_id, "channel": channel, "remaining_below": remaining_below}
        after |= {"percent_below": percent_below, "hours_before": hours_before, "target_percent": target_percent}
        await record(actor, "alert_rule.create", "alert_rule", rule_id, after=after)
    return rule_id


async def set_rule_active(actor: Actor, rule_id: int, active: bool) -> None:
    async with queued_write(AlertRule._meta.db):
        done = await AlertRule.update({AlertRule.active: active}).where(AlertRule.id == rule_id).returning(AlertRule.id)
        if not done:
            raise NotFound("No such alert rule.")
        await record(actor, "alert_rule.active", "alert_rule", rule_id, after={"active": active})


async def rules(session_id: int | None = None, active_only: bool = False) -> list[Rule]:
    query = AlertRule.select(
        AlertRule.id, AlertRule.kind, AlertRule.session, AlertRule.channel, AlertRule.remaining_below,
        AlertRule.percent_below, AlertRule.hours_before, AlertRule.target_percent, AlertRule.notify_email,
    ).order_by(AlertRule.id)  # fmt: skip
    condition = None
    if session_id is not None:
        condition = AlertRule.session.is_null() | (AlertRule.session == session_id)
    if active_only:
        condition = (AlertRule.active == True) if condition is None else condition & (AlertRule.active == True)  # noqa: E712
    if condition is not None:
        query = query.where(condition)
    return [Rule(**r) for r in await query]


async def rule_rows() -> list[dict]:
    return await AlertRule.select(*AlertRule.all_columns(), AlertRule.session.event.name).order_by(AlertRule.id)


def _candidates(rule: Rule, monitor: SessionMonitor):
    """(class, channel, figures) the rule looks at."""
    for c in monitor.classes:
        if not rule.channel:
            yield c, "", c.figures
            continue
        for row in c.channels:
            if row.channel == rule.channel and row.channel != POOL and not row.outlet and not row.partner:
                yield c, row.channel, row.figures


def default_recipient() -> str:
    return os.environ.get("SUPERVISOR_EMAIL", "supervisor@ticketcenter.example.cn")


async def check(monitor: SessionMonitor, active: list[Rule] | None = None) -> list[int]:
    """Raise the alerts that the session's figures cross (each once); e-mail the new ones. Their ids.
    `active`: the session's active rules when the caller has read them already (the live page, once per stream);
    an alert among the monitor's own (`monitor.alerts`) is not looked up again."""
    hours_left = (monitor.starts_at - monitor.now).total_seconds() / 3600
    raised: list[int] = []
    for rule in await rules(monitor.session_id, active_only=True) if active is None else active:
        for c, channel, figures in _candidates(rule, monitor):
            if not crossed(rule, figures, hours_left):
                continue
            key = f"{rule.id}:{monitor.session_id}:{c.id}:{channel}"
            if key in monitor.alerts or await Alert.exists().where(Alert.key == key):
                continue
            alert_id = await _raise(rule, monitor, c, channel, figures, key)
            if alert_id is not None:
                raised.append(alert_id)
    for alert_id in raised:
        await send_alert_email(alert_id)
    return raised


async def _raise(rule: Rule, monitor: SessionMonitor, c, channel: str, figures: Figures, key: str) -> int | None:
    facts = {
        "event": monitor.event_name, "venue": monitor.venue_name, "starts_at": monitor.starts_at.isoformat(),
        "starts_local": venue_minute(monitor.starts_at, monitor.timezone),
        "price_class": c.name, "capacity": figures.capacity, "sold": figures.sold, "held": figures.held,
        "remaining": figures.remaining, "last_hour": figures.last_hour, "last_day": figures.last_day,
    }  # fmt: skip
    row = Alert(
        key=key, rule=rule.id, kind=rule.kind, session=monitor.session_id, price_class=c.id, channel=channel,
        raised_at=monitor.now, figures=facts, emailed_to=rule.notify_email or default_recipient(),
    )  # fmt: skip
    try:
        async with queued_write(Alert._meta.db):
            alert_id = (await Alert.insert(row).returning(Alert.id))[0]["id"]
            await record(SYSTEM, f"alert.{rule.kind}", "alert", alert_id, after={"key": key, **facts})
    except Exception as exc:  # another worker or watcher raised it first: the unique key refused this one
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            return None
        raise
    return alert_id


_KIND_ZH = {SHORTAGE: "库存不足", SLOW_SALE: "销售缓慢"}


def alert_email(alert: dict, sender: str) -> EmailMessage:
    f = alert["figures"]
    message = EmailMessage()
    message["Subject"] = f"库存预警（{_KIND_ZH[alert['kind']]}）：{f['event']} · {f['price_class']}"
    message["From"] = sender
    message["To"] = alert["emailed_to"]
    name = CHANNEL_NAMES.get(alert["channel"], alert["channel"])
    channel = f"渠道：{translate('zh_CN', name)}\n" if alert["channel"] else ""
    message.set_content(
        f"{f['event']}（{f['venue']}，{f.get('starts_local') or f['starts_at'] + ' UTC'}）\n"
        f"票价等级：{f['price_class']}\n{channel}"
        f"总量 {f['capacity']}，已售 {f['sold']}，锁定 {f['held']}，剩余 {f['remaining']}；"
        f"近一小时售出 {f['last_hour']}，近一天售出 {f['last_day']}。\n\n"
        "请在库存监控页确认此预警并填写处理说明；如需补票，请提交补货申请。\n\n票务中心"
    )
    return message


async def send_alert_email(alert_id: int) -> bool:
    """E-mail an alert to its recipient (after its commit); the outcome is recorded on the alert."""
    alert = await Alert.select().where(Alert.id == alert_id).output(load_json=True).first()
    sender = os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn")
    try:
        await asyncio.to_thread(_send, alert_email(alert, sender))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("alert e-mail %s failed: %s", alert_id, type(exc).__name__)
        await Alert.update({Alert.email_error: type(exc).__name__[:200]}).where(Alert.id == alert_id)
        return False
    await Alert.update({Alert.emailed_at: utcnow(), Alert.email_error: ""}).where(Alert.id == alert_id)
    return True


async def acknowledge(actor: Actor, alert_id: int, note: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    note = clean_line(note, field="note", maximum=500)
    if not note:
        raise InvalidInput("Write what was done about the alert.", field="note")
    async with queued_write(Alert._meta.db):
        done = (
            await Alert.update(
                {Alert.acknowledged_by_name: actor.name, Alert.acknowledged_at: now, Alert.acknowledgement: note}
            )
            .where((Alert.id == alert_id) & Alert.acknowledged_at.is_null())
            .returning(Alert.id)
        )
        if not done:
            if not await Alert.exists().where(Alert.id == alert_id):
                raise NotFound("No such alert.")
            raise Conflict("This alert was acknowledged already.")
        await record(actor, "alert.acknowledge", "alert", alert_id, after={"note": note})


async def alert_rows(session_id: int | None = None, open_only: bool = False, limit: int = 100) -> list[dict]:
    query = Alert.select(
        *Alert.all_columns(),
        Alert.price_class.name,
        Alert.session.event.name,
        Alert.session.starts_at,
        Alert.session.venue.timezone,
    ).order_by(Alert.id, ascending=False)
    condition = None
    if session_id is not None:
        condition = Alert.session == session_id
    if open_only:
        condition = (
            Alert.acknowledged_at.is_null() if condition is None else condition & Alert.acknowledged_at.is_null()
        )
    if condition is not None:
        query = query.where(condition)
    return await query.limit(limit).output(load_json=True)


async def check_sessions_on_sale(now: dt.datetime | None = None) -> int:
    """The periodic check (web/jobs.py): alerts of sessions nobody is watching are raised and e-mailed too."""
    from db.inventory.monitor import session_monitor, sessions_on_sale

    active = await rules(active_only=True)
    if not active:
        return 0
    every = any(r.session is None for r in active)
    named = {r.session for r in active}
    raised = 0
    for session in await sessions_on_sale(now):
        if every or session["id"] in named:
            raised += len(await check(await session_monitor(session["id"], now)))
    return raised
