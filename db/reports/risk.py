"""Risk alerts (R8.4): anomalies watched for by rules kept as data (reports_risk_rule: a threshold, the fewest
cases that count, a window, who is e-mailed), checked every 30 seconds by web/jobs.py.

- refund_spike: refunds per 100 paid orders of one event, or paid back by one seller, within the window,
  over `threshold` (%) with at least `min_count` refunds.
- discount_share: one seller's share of concession or group-discount tickets within the window, more than
  `threshold` percentage points over the share of all sellers together (the norm), over `min_count` tickets.
- failed_payment_spike: failed online payments per 100 started within the window over `threshold` (%), with
  at least `min_count` failures.
- refund_other_means: a refund paid back by another means than the order was paid with (each one).
- cash_variance: a window shift (db/finance/shifts.py) counted within the window whose counted cash differs
  from the expected (float + the shift's cash entries) by more than `threshold` fen (each shift once).

An alert is raised once per rule, subject and window (its key), shown on the supervisor's home page and the
alerts page, e-mailed to the rule's addresses, and acknowledged with a note (audited); none is deleted."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.i18n import MAIL_LANGUAGES, translate
from db.core.text import one_line
from db.core.transaction import queued_write
from db.reports.sql import select
from db.reports.tables import RiskAlert, RiskRule
from db.sales.delivery.operations import _send
from db.sales.ordering.buyer import _EMAIL

log = logging.getLogger("ticketcenter.risk")


@dataclass(frozen=True, slots=True)
class RuleKind:
    code: str
    title: str  # English msgid
    unit: str  # percent | points | fen
    threshold: int
    min_count: int
    window_minutes: int
    available: bool = True


RULES = {
    r.code: r
    for r in (
        RuleKind("refund_spike", "Refund spike per event or seller", "percent", 30, 5, 60),
        RuleKind("discount_share", "Unusual concession or discount share per seller", "points", 25, 10, 1440),
        RuleKind("failed_payment_spike", "Failed payment spike", "percent", 30, 5, 60),
        RuleKind("refund_other_means", "Refund to a different means than the payment", "count", 0, 1, 60),
        RuleKind("cash_variance", "Cash variance over tolerance at shift close", "fen", 5000, 1, 1440),
    )
}
MAX_THRESHOLD = 1_000_000
MAX_WINDOW = 7 * 1440


async def ensure_rules(now: dt.datetime | None = None) -> None:
    """Add the default row of every rule that has none (their thresholds are then edited on the page)."""
    have = {r["code"] for r in await RiskRule.select(RiskRule.code)}
    missing = [k for code, k in RULES.items() if code not in have]
    if not missing:
        return
    async with queued_write(RiskRule._meta.db):
        for kind in missing:
            await RiskRule.raw(
                "INSERT INTO reports_risk_rule (code, threshold, min_count, window_minutes, active, notify, "
                "updated_by_name, updated_at) VALUES ({}, {}, {}, {}, {}, '', '', {}) ON CONFLICT (code) DO NOTHING",
                kind.code,
                kind.threshold,
                kind.min_count,
                kind.window_minutes,
                kind.available,
                now or utcnow(),
            ).run()


async def rules() -> list[dict]:
    await ensure_rules()
    rows = await RiskRule.select().order_by(RiskRule.id)
    return [{**r, "kind": RULES[r["code"]]} for r in rows if r["code"] in RULES]


async def set_rule(
    actor: Actor, code: str, *, threshold: int, min_count: int, window_minutes: int, active: bool, notify: str
) -> None:
    if code not in RULES:
        raise NotFound("No such rule.")
    if not RULES[code].available and active:
        raise Conflict("This rule waits for the shift close (issue 12 part B); it cannot be switched on yet.")
    if not 0 <= threshold <= MAX_THRESHOLD or not 1 <= min_count <= 100_000 or not 1 <= window_minutes <= MAX_WINDOW:
        raise InvalidInput("Threshold, fewest cases and window must be whole numbers in range.", field="threshold")
    addresses = [a.strip() for a in notify.replace(";", ",").split(",") if a.strip()]
    for address in addresses:
        if len(address) > 200 or not _EMAIL.match(address):
            raise InvalidInput(
                "{address} is not an e-mail address.", field="notify", address=one_line(address[:60], "notify")
            )
    await ensure_rules()
    before = await RiskRule.select().where(RiskRule.code == code).first()
    values = {
        RiskRule.threshold: threshold,
        RiskRule.min_count: min_count,
        RiskRule.window_minutes: window_minutes,
        RiskRule.active: active,
        RiskRule.notify: ", ".join(addresses),
        RiskRule.updated_by_name: actor.name,
        RiskRule.updated_at: utcnow(),
    }
    async with queued_write(RiskRule._meta.db):
        await RiskRule.update(values).where(RiskRule.code == code)
        await record(
            actor,
            "risk.rule",
            "risk_rule",
            code,
            before={k: before[k] for k in ("threshold", "min_count", "window_minutes", "active", "notify")},
            after={
                "threshold": threshold,
                "min_count": min_count,
                "window_minutes": window_minutes,
                "active": active,
                "notify": ", ".join(addresses),
            },
        )


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    key: str  # the alert's identity: rule, subject, window
    subject: str
    value: int
    detail: dict


def _bucket(now: dt.datetime, minutes: int) -> str:
    """The window an alert belongs to (one alert per subject and window)."""
    step = minutes * 60
    return str(int(now.timestamp()) // step)


async def _refund_spike(rule: dict, since: dt.datetime, now: dt.datetime) -> list[Finding]:
    found = []
    for by, subject_sql, name_sql, joins in (
        ("event", "e.id", "e.name", "JOIN event_session s ON s.id = o.session JOIN event e ON e.id = s.event"),
        ("seller", "l.actor_id", "MAX(l.actor_name)", ""),
    ):
        refunds = await select(
            f"SELECT {subject_sql} AS subject, {name_sql} AS name, COUNT(*) AS n FROM finance_ledger l "
            f'JOIN sales_order o ON o.id = l."order" {joins} '
            f"WHERE l.kind = 'refund' AND l.at >= {{}} AND l.at < {{}} AND {subject_sql} IS NOT NULL "
            f"GROUP BY {subject_sql}",
            since,
            now,
        )
        busy = [r for r in refunds if int(r["n"]) >= rule["min_count"]]
        if not busy:
            continue
        sales_subject = subject_sql if by == "event" else "l.actor_id"
        sold = {
            r["subject"]: int(r["n"])
            for r in await select(
                f"SELECT {sales_subject} AS subject, COUNT(*) AS n FROM finance_ledger l "
                f'JOIN sales_order o ON o.id = l."order" {joins} '
                "WHERE l.kind = 'sale' AND l.amount_fen > 0 AND l.at >= {} AND l.at < {} "
                f"GROUP BY {sales_subject}",
                since,
                now,
            )
        }
        for r in busy:
            rate = round(100 * int(r["n"]) / max(sold.get(r["subject"], 0), 1))
            if rate > rule["threshold"]:
                found.append(
                    Finding(
                        "refund_spike",
                        f"refund_spike:{by}:{r['subject']}:{_bucket(now, rule['window_minutes'])}",
                        f"{by}: {r['name']}",
                        rate,
                        {"by": by, "name": r["name"], "refunds": int(r["n"]), "sales": sold.get(r["subject"], 0)},
                    )
                )
    return found


async def _discount_share(rule: dict, since: dt.datetime, now: dt.datetime) -> list[Finding]:
    rows = await select(
        "SELECT l.actor_id AS seller, MAX(l.actor_name) AS name, COUNT(*) AS tickets, "
        "SUM(CASE WHEN t.concession <> '' OR o.group_percent_off > 0 THEN 1 ELSE 0 END) AS discounted "
        'FROM finance_ledger l JOIN sales_order o ON o.id = l."order" JOIN ticket t ON t."order" = o.id '
        "WHERE l.kind = 'sale' AND l.amount_fen > 0 AND l.at >= {} AND l.at < {} AND l.actor_id IS NOT NULL "
        "AND o.channel = 'box_office' GROUP BY l.actor_id",
        since,
        now,
    )
    total = sum(int(r["tickets"]) for r in rows)
    if not total:
        return []
    norm = 100 * sum(int(r["discounted"]) for r in rows) / total
    found = []
    for r in rows:
        tickets, discounted = int(r["tickets"]), int(r["discounted"])
        if tickets < rule["min_count"]:
            continue
        share = 100 * discounted / tickets
        others = total - tickets
        other_norm = 100 * (sum(int(x["discounted"]) for x in rows) - discounted) / others if others else norm
        if share - other_norm > rule["threshold"]:
            found.append(
                Finding(
                    "discount_share",
                    f"discount_share:{r['seller']}:{_bucket(now, rule['window_minutes'])}",
                    f"seller: {r['name']}",
                    round(share),
                    {"name": r["name"], "tickets": tickets, "discounted": discounted, "norm": round(other_norm, 1)},
                )
            )
    return found


async def _failed_payments(rule: dict, since: dt.datetime, now: dt.datetime) -> list[Finding]:
    row = (
        await select(
            "SELECT COUNT(*) AS started, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed "
            "FROM sales_payment WHERE created_at >= {} AND created_at < {} "
            "AND method NOT IN ('cash', 'card', 'mobile', 'partner')",
            since,
            now,
        )
    )[0]
    started, failed = int(row["started"] or 0), int(row["failed"] or 0)
    if failed < rule["min_count"]:
        return []
    rate = round(100 * failed / max(started, 1))
    if rate <= rule["threshold"]:
        return []
    return [
        Finding(
            "failed_payment_spike",
            f"failed_payment_spike:{_bucket(now, rule['window_minutes'])}",
            "online payments",
            rate,
            {"failed": failed, "started": started},
        )
    ]


async def _refund_other_means(rule: dict, since: dt.datetime, now: dt.datetime) -> list[Finding]:
    rows = await select(
        "SELECT l.refund_id AS refund_id, l.method AS refund_method, l.amount_fen AS amount, o.code AS order_code, "
        'l.actor_name AS actor, (SELECT MIN(p.method) FROM finance_ledger p WHERE p."order" = l."order" '
        "AND p.kind = 'payment') AS paid_method FROM finance_ledger l JOIN sales_order o ON o.id = l.\"order\" "
        "WHERE l.kind = 'refund' AND l.at >= {} AND l.at < {}",
        since,
        now,
    )
    return [
        Finding(
            "refund_other_means",
            f"refund_other_means:{r['refund_id'] or r['order_code']}",
            f"order {r['order_code']}",
            -int(r["amount"]),
            {"order": r["order_code"], "paid": r["paid_method"], "refunded": r["refund_method"], "by": r["actor"]},
        )
        for r in rows
        if r["paid_method"] and r["refund_method"] != r["paid_method"]
    ]


async def _cash_variance(rule: dict, since: dt.datetime, now: dt.datetime) -> list[Finding]:
    rows = await select(
        "SELECT id, seller_name, cash_counted_fen, expected_cash_fen FROM finance_shift "
        "WHERE counted_at >= {} AND counted_at < {} AND cash_counted_fen IS NOT NULL "
        "AND expected_cash_fen IS NOT NULL",
        since,
        now,
    )
    return [
        Finding(
            "cash_variance",
            f"cash_variance:{r['id']}",
            f"shift {r['id']}: {r['seller_name']}",
            int(r["cash_counted_fen"]) - int(r["expected_cash_fen"]),
            {"name": r["seller_name"], "counted": int(r["cash_counted_fen"]), "expected": int(r["expected_cash_fen"])},
        )
        for r in rows
        if abs(int(r["cash_counted_fen"]) - int(r["expected_cash_fen"])) > rule["threshold"]
    ]


CHECKS = {
    "refund_spike": _refund_spike,
    "discount_share": _discount_share,
    "failed_payment_spike": _failed_payments,
    "refund_other_means": _refund_other_means,
    "cash_variance": _cash_variance,
}


async def evaluate(now: dt.datetime | None = None) -> list[dict]:
    """Run every active rule; raise (and e-mail) the alerts not raised before. Returns the new alerts."""
    now = now or utcnow()
    raised = []
    for rule in await rules():
        check = CHECKS.get(rule["code"])
        if not rule["active"] or check is None:
            continue
        since = now - dt.timedelta(minutes=rule["window_minutes"])
        for finding in await check(rule, since, now):
            async with queued_write(RiskAlert._meta.db):
                new = await RiskAlert.raw(
                    "INSERT INTO reports_risk_alert (key, rule, subject, value, detail, raised_at, "
                    "acknowledged_by_name, note) VALUES ({}, {}, {}, {}, {}, {}, '', '') "
                    "ON CONFLICT (key) DO NOTHING RETURNING id",
                    finding.key,
                    finding.rule,
                    finding.subject[:120],
                    finding.value,
                    _json(finding.detail),
                    now,
                ).run()
            if new:
                alert = {
                    "id": new[0]["id"],
                    "rule": finding.rule,
                    "subject": finding.subject,
                    "value": finding.value,
                    "detail": finding.detail,
                    "raised_at": now,
                }
                raised.append(alert)
                await _mail(rule, alert)
    return raised


def _json(value: dict) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def alert_email(rule: dict, alert: dict) -> EmailMessage:
    """The alert's mail, Chinese then English (db/core/i18n.py catalogs)."""
    mail = EmailMessage()
    title = RULES[rule["code"]].title
    heads = [translate(lang, "Risk alert: {rule}", rule=translate(lang, title)) for lang in MAIL_LANGUAGES]
    mail["Subject"] = f"{' / '.join(heads)} · {alert['subject']}"
    mail["From"] = os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn")
    mail["To"] = rule["notify"]
    details = "\n".join(f"{k}: {v}" for k, v in alert["detail"].items())
    parts = [
        "\n".join(
            (
                head,
                alert["subject"],
                translate(lang, "Value: {value} (threshold {limit})", value=alert["value"], limit=rule["threshold"]),
                details,
                translate(lang, "Acknowledge it with a note on the home page or at /reports/alerts."),
                translate(lang, "Ticket Center"),
            )
        )
        for lang, head in zip(MAIL_LANGUAGES, heads, strict=True)
    ]
    mail.set_content("\n\n----\n\n".join(parts))
    return mail


async def _mail(rule: dict, alert: dict) -> None:
    if not rule["notify"]:
        return
    try:
        await asyncio.to_thread(_send, alert_email(rule, alert))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("risk alert %s not e-mailed: %s", alert["id"], type(exc).__name__)
        return
    async with queued_write(RiskAlert._meta.db):
        await RiskAlert.update({RiskAlert.emailed_at: utcnow()}).where(RiskAlert.id == alert["id"])


async def open_alerts(limit: int = 50) -> list[dict]:
    return (
        await RiskAlert.select()
        .where(RiskAlert.acknowledged_at.is_null())
        .order_by(RiskAlert.raised_at, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )


async def history(limit: int = 200) -> list[dict]:
    return await RiskAlert.select().order_by(RiskAlert.id, ascending=False).limit(limit).output(load_json=True)


async def acknowledge(actor: Actor, alert_id: int, note: str) -> None:
    note = note.strip()
    if not note or len(note) > 2000:
        raise InvalidInput("Write what was found or done (up to 2000 characters).", field="note")
    async with queued_write(RiskAlert._meta.db):
        done = (
            await RiskAlert.update(
                {RiskAlert.acknowledged_at: utcnow(), RiskAlert.acknowledged_by_name: actor.name, RiskAlert.note: note}
            )
            .where((RiskAlert.id == alert_id) & RiskAlert.acknowledged_at.is_null())
            .returning(RiskAlert.rule, RiskAlert.subject)
        )
        if not done:
            if await RiskAlert.exists().where(RiskAlert.id == alert_id):
                raise Conflict("Someone acknowledged this alert already.")
            raise NotFound("No such alert.")
        await record(
            actor,
            "risk.acknowledge",
            "risk_alert",
            alert_id,
            summary=f"{done[0]['rule']}: {done[0]['subject']}",
            after={"note": note},
        )
