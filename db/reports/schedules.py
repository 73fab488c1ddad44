"""Scheduled reports (R6.2): a report e-mailed as XLSX every day or every week, at an hour of the venue's
clock, to a list of staff (each named by username, with the address the file goes to).

A daily schedule sends yesterday; a weekly one the seven days up to yesterday. Every worker runs the due
check (web/jobs.py); a run is claimed by one conditional UPDATE of the schedule's next_run_at, so several
workers never send it twice. The mail goes through the app's SMTP settings (SMTP_HOST, SMTP_PORT, SMTP_FROM)
after the claim is committed, never inside a transaction; the outcome is kept on the schedule."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import smtplib
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow
from db.core.errors import InvalidInput, NotFound
from db.core.i18n import MAIL_LANGUAGES, translate
from db.core.text import one_line
from db.core.transaction import queued_write
from db.reports import exports
from db.reports.catalog import REPORTS
from db.reports.filters import BASES, Filters
from db.reports.tables import ReportSchedule
from db.sales.delivery.operations import _send
from db.sales.ordering.buyer import _EMAIL
from db.sales.status import CHANNELS
from db.staff.permissions import role_allows
from db.staff.tables import StaffUser

FREQUENCIES = ("daily", "weekly")
log = logging.getLogger("ticketcenter.reports")


def next_run(frequency: str, weekday: int, hour: int, after: dt.datetime) -> dt.datetime:
    """The first `hour`:00 venue time (on `weekday`, Monday = 0, for a weekly schedule) after `after` (UTC)."""
    local = after.astimezone(VENUE_TIMEZONE)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    while candidate <= local or (frequency == "weekly" and candidate.weekday() != weekday):
        candidate = (candidate + dt.timedelta(days=1)).replace(hour=hour)
    return candidate.astimezone(dt.UTC)


def period(frequency: str, run_at: dt.datetime) -> tuple[dt.date, dt.date]:
    """The days a run reports: yesterday, or the seven days up to yesterday (venue dates)."""
    yesterday = run_at.astimezone(VENUE_TIMEZONE).date() - dt.timedelta(days=1)
    return (yesterday - dt.timedelta(days=6) if frequency == "weekly" else yesterday), yesterday


@dataclass(frozen=True, slots=True)
class Recipient:
    staff_id: int
    name: str
    email: str


async def parse_recipients(text: str, report_key: str) -> list[Recipient]:
    """Lines of "username e-mail": each an active staff member whose role may read the report."""
    report = REPORTS[report_key]
    out: list[Recipient] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not _EMAIL.match(parts[1]) or len(parts[1]) > 200:
            raise InvalidInput(
                "Line {line}: write a username and an e-mail address, e.g. wangfang wangfang@example.cn.",
                field="recipients",
                line=number,
            )
        staff = (
            await StaffUser.select(StaffUser.id, StaffUser.display_name, StaffUser.role)
            .where((StaffUser.username == parts[0]) & (StaffUser.active == True))
            .first()
        )
        if staff is None:
            raise InvalidInput(
                "Line {line}: no active staff member {username}.",
                field="recipients",
                line=number,
                username=parts[0][:64],
            )
        if not role_allows(staff["role"], report.permission):
            raise InvalidInput(
                "Line {line}: {username}'s role may not read this report.",
                field="recipients",
                line=number,
                username=parts[0][:64],
            )
        out.append(Recipient(staff["id"], staff["display_name"], parts[1]))
    if not out:
        raise InvalidInput("Name at least one staff member to send the report to.", field="recipients")
    return out


async def create(
    actor: Actor,
    *,
    name: str,
    report: str,
    frequency: str,
    weekday: int,
    hour: int,
    recipients: str,
    event_id: int | None = None,
    channel: str = "",
    basis: str = "order",
    now: dt.datetime | None = None,
) -> int:
    name = one_line(name.strip(), "name")
    if not name or len(name) > 80:
        raise InvalidInput("Give the schedule a name (up to 80 characters).", field="name")
    if report not in REPORTS:
        raise InvalidInput("Choose a report from the list.", field="report")
    if not role_allows(actor.role, REPORTS[report].permission):
        raise InvalidInput("Your role may not read this report.", field="report")
    if frequency not in FREQUENCIES:
        raise InvalidInput("Choose daily or weekly.", field="frequency")
    if not 0 <= weekday <= 6 or not 0 <= hour <= 23:
        raise InvalidInput("Choose a day of the week and an hour from the lists.", field="hour")
    if channel and channel not in CHANNELS:
        raise InvalidInput("Choose a channel from the list.", field="channel")
    if basis not in BASES:
        raise InvalidInput("Choose order date or event date.", field="basis")
    people = await parse_recipients(recipients, report)
    now = now or utcnow()
    params: dict[str, Any] = {"basis": basis}
    if event_id is not None:
        params["event"] = event_id
    if channel:
        params["channel"] = channel
    async with queued_write(ReportSchedule._meta.db):
        row = await ReportSchedule.insert(
            ReportSchedule(
                name=name,
                report=report,
                params=params,
                frequency=frequency,
                weekday=weekday,
                hour=hour,
                recipients=[{"staff_id": p.staff_id, "name": p.name, "email": p.email} for p in people],
                next_run_at=next_run(frequency, weekday, hour, now),
                created_by_name=actor.name,
                created_at=now,
            )
        ).returning(ReportSchedule.id)
        schedule_id = row[0]["id"]
        await record(
            actor,
            "report.schedule",
            "report_schedule",
            schedule_id,
            summary=f"{name}: {report} {frequency}",
            after={
                "report": report,
                "frequency": frequency,
                "weekday": weekday,
                "hour": hour,
                "recipients": [p.staff_id for p in people],
                "params": params,
            },
        )
    return schedule_id


async def stop(actor: Actor, schedule_id: int) -> None:
    async with queued_write(ReportSchedule._meta.db):
        done = (
            await ReportSchedule.update({ReportSchedule.active: False})
            .where((ReportSchedule.id == schedule_id) & (ReportSchedule.active == True))
            .returning(ReportSchedule.name)
        )
        if not done:
            raise NotFound("No such schedule, or it was stopped already.")
        await record(actor, "report.unschedule", "report_schedule", schedule_id, summary=done[0]["name"])


async def listing() -> list[dict]:
    return (
        await ReportSchedule.select()
        .order_by(ReportSchedule.active, ascending=False)
        .order_by(ReportSchedule.id)
        .output(load_json=True)
    )


async def claim_due(now: dt.datetime | None = None) -> list[dict]:
    """The schedules due now, each claimed by moving its next_run_at on (the one UPDATE that wins)."""
    now = now or utcnow()
    claimed = []
    due = (
        await ReportSchedule.select()
        .where((ReportSchedule.active == True) & (ReportSchedule.next_run_at <= now))
        .output(load_json=True)
    )
    for row in due:
        following = next_run(row["frequency"], row["weekday"], row["hour"], now)
        async with queued_write(ReportSchedule._meta.db):
            won = (
                await ReportSchedule.update({ReportSchedule.next_run_at: following, ReportSchedule.last_run_at: now})
                .where((ReportSchedule.id == row["id"]) & (ReportSchedule.next_run_at == row["next_run_at"]))
                .returning(ReportSchedule.id)
            )
        if won:
            claimed.append({**row, "run_at": now})
    return claimed


def message(schedule: dict, since: dt.date, until: dt.date, files: dict[str, Path], rows: int) -> EmailMessage:
    """The mail in both languages (db.core.i18n.MAIL_LANGUAGES), with the file in each: `files` by language."""
    titles = {lang: translate(lang, REPORTS[schedule["report"]].title) for lang in files}
    mail = EmailMessage()
    mail["Subject"] = f"{schedule['name']} · {' / '.join(titles.values())} · {since.isoformat()} – {until.isoformat()}"
    mail["From"] = os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn")
    mail["To"] = ", ".join(r["email"] for r in schedule["recipients"])
    parts = []
    for lang, title in titles.items():
        attached = translate(
            lang,
            "Attached is the scheduled report “{name}” ({title}) for {since} to {until}: {rows} rows.",
            name=schedule["name"],
            title=title,
            since=since.isoformat(),
            until=until.isoformat(),
            rows=rows,
        )
        parts.append(f"{translate(lang, 'Hello,')}\n\n{attached}\n\n{translate(lang, 'Ticket Center')}")
    mail.set_content("\n\n----\n\n".join(parts))
    for path in files.values():
        mail.add_attachment(
            path.read_bytes(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=path.name,
        )
    return mail


async def send(schedule: dict, labels: dict[str, dict[str, str]]) -> str:
    """Make the XLSX of one claimed run in each mail language and e-mail them in one mail; the outcome
    ("sent: N rows" or the failure) is kept."""
    report = REPORTS[schedule["report"]]
    params = schedule["params"]
    since, until = period(schedule["frequency"], schedule["run_at"])
    filters = Filters(since, until, params.get("event"), params.get("channel"), params.get("basis", "order"))
    stem = exports.file_name(report, filters, "xlsx").removesuffix(".xlsx")
    with tempfile.TemporaryDirectory(prefix="tc-schedule-", dir=exports.export_dir()) as folder:
        try:
            files = {lang: Path(folder) / f"{stem}_{lang}.xlsx" for lang in MAIL_LANGUAGES}
            for lang, path in files.items():
                how = exports.Presentation(lang, labels)
                rows = await exports.write_file(report, filters, "xlsx", how, path)
            mail = await asyncio.to_thread(message, schedule, since, until, files, rows)
            await asyncio.to_thread(_send, mail)
            outcome = f"sent: {rows} rows to {len(schedule['recipients'])}"
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("scheduled report %s failed: %s", schedule["id"], type(exc).__name__)
            outcome = f"failed: {type(exc).__name__}"
    async with queued_write(ReportSchedule._meta.db):
        await ReportSchedule.update({ReportSchedule.last_outcome: outcome}).where(ReportSchedule.id == schedule["id"])
    return outcome


async def run_due(labels: dict[str, dict[str, str]], now: dt.datetime | None = None) -> list[str]:
    """The periodic job: claim what is due and send each."""
    return [await send(s, labels) for s in await claim_due(now)]
