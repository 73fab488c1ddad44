"""The staff menu (templates/base.html): every area's NAV entries (permission, href, label) in a few groups, so
that even a supervisor's whole menu fits one row at 1366 px, in English too (issue 15). A group of which the
user may open one page is a plain link to it; of more, a drop-down."""

from __future__ import annotations

from dataclasses import dataclass

from web import admin, aftersale, catalog, finance, gate, inventory, reports, sales, sessionchange
from web.auditlog import controller as auditlog
from web.staff import controller as staff

NavItem = tuple[object, str, str]  # (Permission, href, English label)


@dataclass(frozen=True, slots=True)
class MenuGroup:
    label: str  # English msgid
    items: tuple[NavItem, ...]


MENU = (
    MenuGroup("Ticketing", (*sales.NAV, *aftersale.NAV)),
    MenuGroup("Events", (*catalog.NAV, *sessionchange.NAV)),
    MenuGroup("Inventory", tuple(inventory.NAV)),
    MenuGroup("Admission", tuple(gate.NAV)),
    MenuGroup("Finance", tuple(finance.NAV)),
    MenuGroup("Reports", tuple(reports.NAV)),
    MenuGroup("System", (*staff.NAV, *auditlog.NAV, *admin.NAV)),
)
