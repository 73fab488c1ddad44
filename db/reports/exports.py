"""Exports of a report (R6.2): CSV and XLSX with the page's numbers, written batch by batch so that a million
ticket lines never sit in memory at once (CSV: each batch encoded and sent; XLSX:
db/reports/xlsx.py streams the sheet's XML into the zip file row by row).

A small report is answered at once; a large one (more than DIRECT_ROWS rows) is prepared by a background
task into a file under EXPORT_DIR while its progress (rows written of the total) is kept in reports_export,
which the page polls; then it is downloaded. Every export of a report with customer data leaves an audit
record (who, when, which report, which filters, how many rows)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import ROOT
from db.core.errors import NotFound
from db.core.i18n import translate
from db.core.transaction import queued_write
from db.reports import xlsx
from db.reports.catalog import Report
from db.reports.columns import COUNT, FEN, PERCENT, Column
from db.reports.filters import Filters
from db.reports.tables import ExportJob

FORMATS = ("csv", "xlsx")
DIRECT_ROWS = int(os.environ.get("REPORT_DIRECT_ROWS", "20000"))
KEEP = dt.timedelta(hours=24)
log = logging.getLogger("ticketcenter.reports")


def export_dir() -> Path:
    folder = Path(os.environ.get("EXPORT_DIR") or ROOT / "var" / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True, slots=True)
class Presentation:
    """How cells read in one language: the column titles and code labels (web.labels) translated."""

    language: str
    labels: dict[str, dict[str, str]]  # web.labels.ALL

    def header(self, columns: tuple[Column, ...]) -> list[str]:
        return [translate(self.language, c.label) for c in columns]

    def converter(self, column: Column) -> Callable[[Any], Any]:
        """How one column's values become cells in a file: yuan for money, the label for a code, numbers as
        numbers (made once per column: a million rows call it eleven million times)."""
        if column.kind == FEN:
            return lambda v: "" if v is None else int(v) / 100
        if column.kind == COUNT:
            return lambda v: "" if v is None else int(v)
        if column.kind == PERCENT:
            return lambda v: "" if v is None else float(v)
        if column.labels and column.labels in self.labels:
            names = {code: translate(self.language, label) for code, label in self.labels[column.labels].items()}
            return lambda v: "" if v is None else names.get(str(v), str(v))
        return lambda v: "" if v is None else str(v)

    def text_converter(self, column: Column) -> Callable[[Any], str]:
        """The same cells as CSV text (money with two decimals, as on the page)."""
        if column.kind == FEN:
            return lambda v: "" if v is None else f"{int(v) / 100:.2f}"
        cell = self.converter(column)
        return lambda v: str(cell(v))


def file_name(report: Report, filters: Filters, fmt: str) -> str:
    return f"{report.key.replace('/', '-')}_{filters.since.isoformat()}_{filters.until.isoformat()}.{fmt}"


async def csv_chunks(
    report: Report, filters: Filters, how: Presentation, progress: Callable[[int], Any] | None = None
) -> AsyncIterator[bytes]:
    """The CSV file in pieces, one per batch of rows (UTF-8 with a BOM for spreadsheet programs);
    `progress(rows so far)` after each batch."""
    done = 0
    converters = [(c.key, how.text_converter(c)) for c in report.columns]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(how.header(report.columns))
    yield ("\ufeff" + out.getvalue()).encode()
    async for batch in report.batches(filters):
        out.seek(0)
        out.truncate()
        writer.writerows([[f(row.get(k)) for k, f in converters] for row in batch])
        yield out.getvalue().encode()
        done += len(batch)
        if progress:
            await progress(done)


class XlsxFile:
    """A report's XLSX file written batch by batch (db/reports/xlsx.py streams the sheet into the zip)."""

    def __init__(self, path: Path, report: Report, how: Presentation) -> None:
        styles = [xlsx.MONEY if c.kind == FEN else None for c in report.columns]
        self.file = xlsx.XlsxWriter(path, translate(how.language, report.title), how.header(report.columns), styles)
        self.cells = [(c.key, how.converter(c)) for c in report.columns]

    def write(self, batch: list[dict]) -> None:
        cells = self.cells
        self.file.rows([[convert(row.get(key)) for key, convert in cells] for row in batch])

    def close(self) -> None:
        self.file.close()


async def write_file(
    report: Report,
    filters: Filters,
    fmt: str,
    how: Presentation,
    path: Path,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Write the export to `path`; `progress(rows written)` after each batch. Returns the rows written."""
    done = 0
    if fmt == "xlsx":
        book = await asyncio.to_thread(XlsxFile, path, report, how)
        try:
            async for batch in report.batches(filters):
                await asyncio.to_thread(book.write, batch)
                done += len(batch)
                if progress:
                    await progress(done)
        finally:
            await asyncio.to_thread(book.close)
        return done
    written = [0]

    async def counted(rows: int) -> None:
        written[0] = rows
        if progress:
            await progress(rows)

    with path.open("wb") as out:
        async for chunk in csv_chunks(report, filters, how, counted):
            out.write(chunk)
    return written[0]


async def record_export(actor: Actor, report: Report, filters: Filters, fmt: str, rows: int | None) -> None:
    """The audit record of an export of customer data (other reports are not recorded)."""
    if not report.customer_data:
        return
    async with queued_write(ExportJob._meta.db):
        await record(
            actor,
            "report.export",
            "report",
            report.key,
            summary=f"{report.key} as {fmt}",
            after={"filters": filters.as_params(), "format": fmt, "rows": rows, "customer_data": True},
        )


_tasks: set[asyncio.Task] = set()


async def start(actor: Actor, report: Report, filters: Filters, fmt: str, how: Presentation, total: int) -> str:
    """Start preparing the export in the background; returns its token (its URL)."""
    token = secrets.token_urlsafe(18)
    name = file_name(report, filters, fmt)
    path = export_dir() / f"{token}.{fmt}"
    async with queued_write(ExportJob._meta.db):
        await ExportJob.insert(
            ExportJob(
                token=token,
                report=report.key,
                params=filters.as_params(),
                format=fmt,
                rows_total=total,
                path=str(path),
                file_name=name,
                created_by=actor.user_id,
                created_at=utcnow(),
            )
        )
    await record_export(actor, report, filters, fmt, total)

    async def update(values: dict) -> None:
        async with queued_write(ExportJob._meta.db):
            await ExportJob.update(values).where(ExportJob.token == token)

    async def progress(done: int) -> None:
        await update({ExportJob.rows_done: done})

    async def run() -> None:
        try:
            rows = await write_file(report, filters, fmt, how, path, progress)
        except Exception as exc:
            log.exception("export %s failed", token)
            await update(
                {ExportJob.status: "failed", ExportJob.error: type(exc).__name__, ExportJob.finished_at: utcnow()}
            )
            return
        await update({ExportJob.status: "done", ExportJob.rows_done: rows, ExportJob.finished_at: utcnow()})

    task = asyncio.create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return token


async def job(token: str, actor: Actor) -> dict:
    """An export of `actor`'s (no one else sees it); NotFound otherwise."""
    row = await ExportJob.select().where((ExportJob.token == token) & (ExportJob.created_by == actor.user_id)).first()
    if row is None:
        raise NotFound("No such export; start it again from the report.")
    return row


async def forget_old(now: dt.datetime | None = None) -> int:
    """Delete export files and their rows older than KEEP (a periodic job)."""
    cutoff = (now or utcnow()) - KEEP
    old = await ExportJob.select(ExportJob.id, ExportJob.path).where(ExportJob.created_at < cutoff)
    for row in old:
        Path(row["path"]).unlink(missing_ok=True)
    if old:
        await ExportJob.delete().where(ExportJob.id.is_in([r["id"] for r in old]))
    return len(old)
