"""The report list (R6.2): every report's title, note and column titles read in Simplified Chinese (the
shared translation test collects literals; these are data), and each report has a permission."""

from __future__ import annotations

from db.reports.catalog import GROUPS, REPORTS
from db.reports.risk import RULES
from db.staff.permissions import Permission, Role, role_allows
from tests.test_translations import translated
from web.reports.schedules import WEEKDAYS


def test_every_report_title_note_column_rule_and_weekday_is_translated():
    have = translated()
    wanted = {*GROUPS.values(), *(r.title for r in RULES.values()), *WEEKDAYS}
    for report in REPORTS.values():
        wanted |= {report.title, *(c.label for c in report.columns)} | ({report.note} if report.note else set())
    missing = sorted(m for m in wanted if m not in have)
    assert not missing, missing


def test_customer_data_reports_need_the_customer_permission():
    for report in REPORTS.values():
        assert isinstance(report.permission, Permission)
        if report.customer_data:
            assert report.permission is Permission.REPORTS_CUSTOMERS
    assert role_allows(Role.SUPERVISOR, Permission.REPORTS_CUSTOMERS)
    assert role_allows(Role.AUDITOR, Permission.REPORTS_VIEW)
    assert not role_allows(Role.AUDITOR, Permission.REPORTS_CUSTOMERS)
    assert not role_allows(Role.SELLER, Permission.REPORTS_VIEW)
