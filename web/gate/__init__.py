"""The gate area (issue 4): the tablet gate page for attendants (GATE_SCAN) and the live entry
dashboard for supervisors (GATE_MONITOR). Admission itself is db.gate's; these pages only show it."""

from db.staff.permissions import Permission
from web.gate import monitor, tablet

ROUTES = [*tablet.ROUTES, *monitor.ROUTES]

NAV = [
    (Permission.GATE_SCAN, "/gate/scan", "Gate scanning"),
    (Permission.GATE_MONITOR, "/gate/live", "Live entries"),
]
