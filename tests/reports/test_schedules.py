"""Scheduled reports (R6.2, issue 12): a report e-mailed as XLSX to staff through a real SMTP server, daily or
weekly; two workers checking at once send it once; a bad schedule is a form error and nothing is saved."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import openpyxl

from db.audit.tables import AuditEntry
from db.core.clock import VENUE_TIMEZONE
from db.reports import sales, schedules
from db.reports.filters import parse, today
from db.reports.tables import ReportSchedule
from tests.helpers import make_staff, post_form
from tests.reports.support import sales_with_refund, signed_in
from tests.smtp import smtp_server
from web.labels import ALL as LABELS


def local(y, m, d, h, minute=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=VENUE_TIMEZONE).astimezone(dt.UTC)


def test_next_run_is_the_next_hour_of_the_venue_clock_and_the_period_is_yesterday_or_the_last_week():
    assert schedules.next_run("daily", 0, 7, local(2026, 12, 1, 6, 59)) == local(2026, 12, 1, 7)
    assert schedules.next_run("daily", 0, 7, local(2026, 12, 1, 7)) == local(2026, 12, 2, 7)
    # 2026-12-01 is a Tuesday: the next Monday 08:00 is 2026-12-07.
    assert schedules.next_run("weekly", 0, 8, local(2026, 12, 1, 9)) == local(2026, 12, 7, 8)
    assert schedules.next_run("weekly", 1, 8, local(2026, 12, 1, 7)) == local(2026, 12, 1, 8)
    run = local(2026, 12, 7, 8)
    assert schedules.period("daily", run) == (dt.date(2026, 12, 6), dt.date(2026, 12, 6))
    assert schedules.period("weekly", run) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))


async def test_a_due_schedule_is_mailed_once_as_xlsx_even_when_two_workers_check_at_once(monkeypatch):
    await sales_with_refund()
    await make_staff("auditor", "wangfang")
    async with signed_in("supervisor") as client:
        response = await post_form(
            client,
            "/reports/schedules",
            {
                "name": "每日渠道销售",
                "report": "sales/channel",
                "frequency": "daily",
                "weekday": "0",
                "hour": "7",
                "basis": "order",
                "recipients": "wangfang wangfang@example.cn\nreport_supervisor boss@example.cn",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        page = await client.get("/reports/schedules")
        assert "每日渠道销售" in page.text and "wangfang@example.cn" in page.text
    schedule = await ReportSchedule.select().first()
    assert schedule["next_run_at"] > dt.datetime.now(dt.UTC)
    assert await AuditEntry.count().where(AuditEntry.action == "report.schedule") == 1
    tomorrow = dt.datetime.combine(today() + dt.timedelta(days=1), dt.time(7, 30), VENUE_TIMEZONE).astimezone(dt.UTC)
    with smtp_server(monkeypatch) as mailbox:
        assert await schedules.run_due(LABELS, dt.datetime.now(dt.UTC)) == []  # not due yet
        first, second = await asyncio.gather(schedules.run_due(LABELS, tomorrow), schedules.run_due(LABELS, tomorrow))
        assert len(first + second) == 1 and (first + second)[0].startswith("sent: 2 rows")
        assert len(mailbox.messages) == 1
        mail = mailbox.emails()[0]
        assert sorted(mailbox.messages[0].rcpt_tos) == ["boss@example.cn", "wangfang@example.cn"]
        assert "每日渠道销售" in mail["Subject"] and today().isoformat() in mail["Subject"]
        assert "按渠道销售 / Sales by channel" in mail["Subject"]  # in both languages, the file in each
        body = mail.get_body().get_content()
        assert "附件是定时报表" in body and "Attached is the scheduled report" in body
        chinese, english = (
            list(openpyxl.load_workbook(io.BytesIO(a.get_content()), read_only=True).active.iter_rows(values_only=True))
            for a in mail.iter_attachments()
        )
        cells = chinese
    expected = await sales.by_dimension(parse({"since": today().isoformat(), "until": today().isoformat()}), "channel")
    assert cells[0][0] == "渠道" and len(cells) == 1 + len(expected)
    assert [(r[0], r[2]) for r in cells[1:]] == [
        ({"box_office": "售票窗口", "partner": "第三方平台"}[e["channel"]], e["gross"] / 100) for e in expected
    ]
    assert english[0][0] == "Channel" and [r[2] for r in english[1:]] == [r[2] for r in cells[1:]]
    after = await ReportSchedule.select().first()
    assert after["next_run_at"] > tomorrow and after["last_outcome"].startswith("sent")


async def test_a_failed_mail_is_kept_as_the_outcome_and_the_next_run_still_comes():
    await sales_with_refund()
    async with signed_in("supervisor") as client:
        await post_form(
            client,
            "/reports/schedules",
            {
                "name": "周报",
                "report": "sales/day",
                "frequency": "weekly",
                "weekday": "0",
                "hour": "8",
                "recipients": "report_supervisor boss@example.cn",
            },
        )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    outcomes = await schedules.run_due(LABELS, later)  # the test SMTP port refuses connections
    assert outcomes == ["failed: ConnectionRefusedError"]
    row = await ReportSchedule.select().first()
    assert row["last_outcome"] == "failed: ConnectionRefusedError" and row["next_run_at"] > later


async def test_a_bad_schedule_is_a_form_error_and_nothing_is_saved():
    await make_staff("seller", "lina")
    async with signed_in("supervisor", language="en") as client:
        base = {"name": "x", "report": "sales/day", "frequency": "daily", "hour": "7"}
        for changes, message in (
            ({"recipients": "nobody a@example.cn"}, "no active staff member nobody"),
            ({"recipients": "lina lina@example.cn"}, "role may not read this report"),
            ({"recipients": "report_supervisor not-an-address"}, "write a username and an e-mail address"),
            ({"recipients": ""}, "Name at least one staff member"),
            ({"recipients": "report_supervisor a@example.cn", "hour": "24"}, "Enter a whole number from 0 to 23."),
            ({"recipients": "report_supervisor a@example.cn", "report": "sales/everything"}, "Choose a report"),
            ({"recipients": "report_supervisor a@example.cn", "frequency": "hourly"}, "Choose daily or weekly."),
        ):
            response = await post_form(client, "/reports/schedules", {**base, **changes})
            assert response.status_code == 422, changes
            assert message in response.text.replace("&#39;", "'"), (changes, response.text[-1500:])
    assert await ReportSchedule.count() == 0
