"""The staff menu (web/menu.py, issue 15): every area's NAV entry is in exactly one group, so grouping the menu
to fit one row hides no page (tests/browser/test_layout.py measures the row)."""

from __future__ import annotations

from collections import Counter

from web.app import AREAS
from web.menu import MENU


def test_every_nav_entry_is_in_exactly_one_menu_group():
    entries = [item for area in AREAS for item in getattr(area, "NAV", [])]
    grouped = Counter(item for group in MENU for item in group.items)
    assert sorted(grouped, key=str) == sorted(entries, key=str)
    assert set(grouped.values()) == {1}
