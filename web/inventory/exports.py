"""Exports of the inventory pages (issue 13, R6.2), CSV and XLSX with the same rows: the live monitor's figures of
a session per class and channel (`/inventory/monitor/SESSION/export?format=csv|xlsx`) and the paper stock
ledger of stores and windows (`/inventory/paper/ledger/export?format=...`). The XLSX is written by
db/reports/xlsx.py, the CSV carries a BOM so that spreadsheet programs read the Chinese names."""

from __future__ import annotations

import csv
import io

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.response import Response

from db.core.errors import InvalidInput
from db.inventory import monitor, paper
from db.reports.xlsx import XlsxWriter
from db.staff.permissions import Permission
from web.auth import requires
from web.downloads import MEDIA
from web.i18n import gettext, local_time
from web.inventory.monitor import channel_label

FORMATS = ("csv", "xlsx")


def table_file(name: str, header: list[str], rows: list[list], fmt: str) -> Response:
    """One table as a download: `fmt` csv or xlsx (else InvalidInput, a 4xx); cells are text or numbers."""
    if fmt not in FORMATS:
        raise InvalidInput("Choose the format csv or xlsx.", field="format")
    rows = [["" if v is None else v for v in row] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        content: bytes = ("\ufeff" + out.getvalue()).encode()
    else:
        buffer = io.BytesIO()
        sheet = XlsxWriter(buffer, name, header, [None] * len(header))
        sheet.rows(rows)
        sheet.close()
        content = buffer.getvalue()
    return Response(
        content=content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"},
    )


def _forecast(figures: monitor.Figures, timezone: str) -> str:
    if figures.remaining <= 0:
        return gettext("sold out")
    return local_time(figures.sell_out_at, timezone=timezone) if figures.sell_out_at else ""


def monitor_rows(data: monitor.SessionMonitor) -> list[list]:
    """Each class, then each of its channels, with the monitor's columns."""
    rows = []
    for c in data.classes:
        for label, f in [(gettext("All channels"), c.figures)] + [
            (f"{channel_label(ch.channel)} {ch.partner or ch.outlet}".strip(), ch.figures) for ch in c.channels
        ]:
            rows.append(
                [c.name, label, f.capacity, f.allocated, f.held, f.sold, f.remaining, f.last_hour, f.last_day,
                 _forecast(f, data.timezone)]
            )  # fmt: skip
    return rows


@get("/inventory/monitor/{session_id:int}/export", guards=[requires(Permission.INVENTORY_MONITOR)])
async def monitor_export(session_id: FromPath[int], format: FromQuery[str] = "csv") -> Response:  # noqa: A002
    data = await monitor.session_monitor(session_id)
    header = [gettext(h) for h in ("Class", "Channel", "Capacity", "Allocated", "Held", "Sold", "Remaining",
                                   "Last hour", "Last day", "Sell-out forecast")]  # fmt: skip
    return table_file(f"stock-monitor-{session_id}", header, monitor_rows(data), format)


@get("/inventory/paper/ledger/export", guards=[requires(Permission.INVENTORY_PAPER)])
async def ledger_export(format: FromQuery[str] = "csv") -> Response:  # noqa: A002
    """Stores and windows in one table: a store's line leaves the window columns empty, and the other way round."""
    stores, windows = await paper.ledger()
    header = [gettext(h) for h in ("Category", "Location", "Received", "Issued", "Returned", "In store", "Printed",
                                   "Spoiled", "Voided", "Lost", "At the window", "Balance")]  # fmt: skip
    ok, off = gettext("balanced"), gettext("Does not balance")
    rows = [
        [s.category, s.location, s.received, s.issued, s.returned, s.in_store, None, None, None, None, None,
         ok if s.balanced else off]
        for s in stores
    ] + [
        [w.category, w.location, None, w.issued, w.returned, None, w.printed, w.spoiled, w.voided, w.lost,
         w.at_window, ok if w.balanced else off]
        for w in windows
    ]  # fmt: skip
    return table_file("paper-ledger", header, rows, format)


ROUTES = [monitor_export, ledger_export]
