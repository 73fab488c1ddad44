"""The report pages under /reports/ (R6.2): each report at its own URL with its filters in the query string;
`?format=csv` or `?format=xlsx` with the same filters gives the same rows as a file. A large export is
prepared in the background and its page shows the progress (web/reports/exports.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Stream, Template

from db.catalog.tables import Event
from db.core.errors import DomainError
from db.reports import exports
from db.reports.catalog import GROUPS, REPORTS, Report
from db.reports.columns import FEN, PERCENT
from db.reports.filters import BASES, Filters, parse
from db.sales.status import CHANNELS
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.downloads import MEDIA, written_file
from web.errors import explain
from web.forms import MAX_ID, whole_number
from web.i18n import current_language, gettext
from web.templating import render

PAGE_ROWS = 1000  # a line report shows its first rows; the export has them all


def presentation() -> exports.Presentation:
    return exports.Presentation(current_language.get(), labels.ALL)


def read_filters(report: Report, since: str, until: str, event: str, channel: str, basis: str) -> Filters:
    event_id = whole_number(event, field="event", minimum=1, maximum=MAX_ID) if event.strip() else None
    params = {"since": since, "until": until, "event": event_id, "channel": channel, "basis": basis}
    return parse(params, ahead_days=report.ahead_days)


def _display(report: Report, column_key: str, value: Any) -> str:
    column = next(c for c in report.columns if c.key == column_key)
    if column.labels and str(value) in labels.ALL.get(column.labels, {}):
        return gettext(labels.ALL[column.labels][str(value)])
    return "" if value is None else str(value)


def chart_data(report: Report, rows: list[dict]) -> dict | None:
    """Chart.js data for the report's chart: labels and one dataset per series (money in yuan)."""
    chart = report.chart
    if chart is None or not rows:
        return None
    kinds = {c.key: c for c in report.columns}

    def number(key: str, value: Any) -> float:
        value = value or 0
        return int(value) / 100 if kinds[key].kind == FEN else float(value)

    points: list[str] = []
    for row in rows:
        point = " · ".join(_display(report, x, row.get(x)) for x in chart.x)
        if point not in points:
            points.append(point)
    if chart.split:
        series: dict[str, list[float]] = {}
        for row in rows:
            name = _display(report, chart.split, row.get(chart.split))
            values = series.setdefault(name, [0.0] * len(points))
            point = " · ".join(_display(report, x, row.get(x)) for x in chart.x)
            values[points.index(point)] += number(chart.series[0], row.get(chart.series[0]))
        datasets = [{"label": name, "data": values} for name, values in series.items()]
    else:
        datasets = [
            {"label": gettext(kinds[key].label), "data": [number(key, row.get(key)) for row in rows]}
            for key in chart.series
        ]
    return {"type": chart.kind, "stacked": chart.stacked, "labels": points, "datasets": datasets}


def totals(report: Report, rows: list[dict]) -> dict | None:
    """A totals line for the summable columns of an aggregated report."""
    if report.streamed is not None or not rows:
        return None
    return {
        c.key: sum(int(r.get(c.key) or 0) for r in rows)
        for c in report.columns
        if c.kind in (FEN, "count") and c.key not in ("ticket",)
    }


async def _events() -> list[dict]:
    return await Event.select(Event.id, Event.name).order_by(Event.name).limit(500)


async def _page(request: Request, report: Report, filters: Filters | None, query: dict, error: str | None) -> Template:
    rows: list[dict] = []
    count = 0
    if filters is not None:
        async for batch in report.batches(filters):
            rows += batch
            if len(rows) >= PAGE_ROWS:
                break
        count = await report.count(filters) if report.streamed is not None else len(rows)
        rows = rows[:PAGE_ROWS]
    export_query = "&".join(f"{k}={v}" for k, v in (filters.as_params() if filters else {}).items())
    return render(
        request,
        "reports/report.html",
        partial="reports/_report.html",
        status_code=422 if error else 200,
        report=report,
        rows=rows,
        count=count,
        shown=len(rows),
        totals=totals(report, rows),
        chart=chart_data(report, rows),
        filters=filters,
        query=query,
        export_query=export_query,
        events=await _events(),
        channels=CHANNELS,
        bases=BASES,
        error=error,
        PERCENT=PERCENT,
    )


async def _export(request: Request, report: Report, filters: Filters, fmt: str) -> Response:
    actor, how = request.user.actor, presentation()
    total = await report.count(filters)
    if total > exports.DIRECT_ROWS:
        token = await exports.start(actor, report, filters, fmt, how, total)
        return Redirect(f"/reports/exports/{token}", status_code=303)
    await exports.record_export(actor, report, filters, fmt, total)
    name = exports.file_name(report, filters, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Stream(exports.csv_chunks(report, filters, how), media_type=MEDIA["csv"], headers=headers)
    return await written_file(name, lambda path: exports.write_file(report, filters, fmt, how, path))


def report_handler(report: Report):
    """The GET handler of one report: the page, or with ?format= its export."""

    async def handler(
        request: Request,
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        event: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        basis: FromQuery[str] = "",
        format: FromQuery[str] = "",
    ) -> Response:
        query = {"since": since, "until": until, "event": event, "channel": channel, "basis": basis}
        try:
            filters = read_filters(report, since, until, event, channel, basis)
        except DomainError as exc:
            return await _page(request, report, None, query, explain(exc))
        if format in exports.FORMATS:
            return await _export(request, report, filters, format)
        return await _page(request, report, filters, query, None)

    return get(
        f"/reports/{report.key}",
        guards=[requires(report.permission)],
        name=f"report-{report.key.replace('/', '-')}",
    )(handler)


@get("/reports", guards=[requires(Permission.REPORTS_VIEW)], name="reports")
async def index(request: Request) -> Template:
    grouped = {group: [r for r in REPORTS.values() if r.group == group] for group in GROUPS}
    return render(request, "reports/index.html", grouped=grouped, groups=GROUPS)


ROUTES = [index, *(report_handler(r) for r in REPORTS.values())]
