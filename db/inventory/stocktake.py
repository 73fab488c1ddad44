"""Stock-taking (R4.1): count the blank paper stock at one location (monthly, quarterly or on demand), compare
it with the ledger, list every variance, have each explained, and have the count signed off by a supervisor.

What the ledger expects at a location: at a store, its serials in the store (state in_store); at a window,
the unused serials issued to it (state at_window). Counting is by range or by scanning serial barcodes one at
a time ("CATEGORY:SERIAL", or the bare serial with the category chosen on the page). Closing freezes the
expected serials and writes the variances as runs (missing: expected, not found; extra: found, not expected).
The report (PDF with a CJK font, XLSX) is built from these stored rows, which do not change after signing."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow, venue_minute
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory.paper import check_range, clean_category, require, runs
from db.inventory.tables import CountedSerial, PaperLocation, PaperSerial, StockCount, Variance
from db.staff.permissions import Permission

PERIODS = ("monthly", "quarterly", "on_demand")
_SCAN = re.compile(r"^(?:(?P<category>[^:]{1,20}):)?(?P<serial>[0-9]{1,10})$")


async def _count(count_id: int, status: str | None = None) -> dict:
    row = (
        await StockCount.select(StockCount.all_columns(), StockCount.location.name, StockCount.location.kind)
        .where(StockCount.id == count_id)
        .first()
    )
    if row is None:
        raise NotFound("No such stock-take.")
    if status is not None and row["status"] != status:
        raise Conflict("This stock-take is {status}; it cannot be changed now.", status=row["status"])
    return row


async def start(actor: Actor, location_id: int, period: str) -> int:
    require(actor, Permission.INVENTORY_PAPER)
    if period not in PERIODS:
        raise InvalidInput("Choose monthly, quarterly or on demand.", field="period")
    if not await PaperLocation.exists().where(PaperLocation.id == location_id):
        raise NotFound("No such storage location.")
    async with queued_write(StockCount._meta.db):
        if await StockCount.exists().where((StockCount.location == location_id) & (StockCount.status == "counting")):
            raise Conflict("A stock-take of this location is already being counted; finish it first.")
        row = await StockCount.insert(
            StockCount(location=location_id, period=period, started_at=utcnow(), started_by=actor.user_id)
        ).returning(StockCount.id)
        await record(actor, "stocktake.start", "stock_count", row[0]["id"], after={"location": location_id})
    return row[0]["id"]


async def _add(actor: Actor, count_id: int, category: str, serials: list[int]) -> int:
    """Record serials as found; a serial never received in this category is refused with nothing written."""
    now = utcnow()
    async with queued_write(CountedSerial._meta.db):
        await _count(count_id, "counting")
        known = {
            r["serial"]
            for r in await PaperSerial.select(PaperSerial.serial).where(
                (PaperSerial.category == category) & PaperSerial.serial.is_in(serials)
            )
        }
        unknown = sorted(set(serials) - known)
        if unknown:
            first, last = runs(unknown)[0]
            raise InvalidInput(
                "Serial {serial} of {category} was never received; check the label and the category. "
                "Nothing was counted.",
                field="serial",
                serial=str(first) if first == last else f"{first}-{last}",
                category=category,
            )
        counted = {
            r["serial"]
            for r in await CountedSerial.select(CountedSerial.serial).where(
                (CountedSerial.stock_count == count_id)
                & (CountedSerial.category == category)
                & CountedSerial.serial.is_in(serials)
            )
        }
        new = sorted(set(serials) - counted)
        for start_at in range(0, len(new), 500):
            await CountedSerial.insert(
                *[
                    CountedSerial(stock_count=count_id, category=category, serial=s, counted_at=now)
                    for s in new[start_at : start_at + 500]
                ]
            )
        await record(
            actor, "stocktake.count", "stock_count", count_id, after={"category": category, "runs": runs(new)[:20]}
        )
    return len(new)


async def count_range(actor: Actor, count_id: int, category: str, first: int, last: int) -> int:
    """A range of serials found (a sealed pack); returns how many were new to this count."""
    require(actor, Permission.INVENTORY_PAPER)
    category = clean_category(category)
    check_range(first, last)
    return await _add(actor, count_id, category, list(range(first, last + 1)))


def parse_scan(text: str, category: str) -> tuple[str, int]:
    """A keyboard-wedge scan: "通用票纸:100123" or "100123" (the chosen category)."""
    match = _SCAN.match((text or "").strip())
    if not match:
        raise InvalidInput("The scan is not a serial barcode (CATEGORY:SERIAL or a serial number).", field="scan")
    return clean_category(match["category"] or category), int(match["serial"])


async def scan(actor: Actor, count_id: int, text: str, category: str = "") -> tuple[str, int, bool]:
    """One scanned serial: (category, serial, whether it was new to this count)."""
    require(actor, Permission.INVENTORY_PAPER)
    category, serial = parse_scan(text, category)
    return category, serial, bool(await _add(actor, count_id, category, [serial]))


async def _expected(location: dict) -> dict[str, list[int]]:
    place = (
        (PaperSerial.store == location["id"]) & (PaperSerial.state == "in_store")
        if location["kind"] == "store"
        else (PaperSerial.window == location["id"]) & (PaperSerial.state == "at_window")
    )
    expected: dict[str, list[int]] = {}
    for r in await PaperSerial.select(PaperSerial.category, PaperSerial.serial).where(place):
        expected.setdefault(r["category"], []).append(r["serial"])
    return {c: sorted(s) for c, s in expected.items()}


async def close(actor: Actor, count_id: int) -> int:
    """Counting finished: compare with the ledger and write every variance; returns how many."""
    require(actor, Permission.INVENTORY_PAPER)
    async with queued_write(StockCount._meta.db):
        count = await _count(count_id, "counting")
        location = {"id": count["location"], "kind": count["location.kind"]}
        expected = await _expected(location)
        found: dict[str, set[int]] = {}
        for r in await CountedSerial.select(CountedSerial.category, CountedSerial.serial).where(
            CountedSerial.stock_count == count_id
        ):
            found.setdefault(r["category"], set()).add(r["serial"])
        variances = []
        for category in sorted(set(expected) | set(found)):
            wanted, seen = set(expected.get(category, [])), found.get(category, set())
            for kind, serials in (("missing", wanted - seen), ("extra", seen - wanted)):
                for first, last in runs(list(serials)):
                    variances.append(
                        Variance(
                            stock_count=count_id, category=category, first_serial=first, last_serial=last, kind=kind
                        )
                    )
        if variances:
            await Variance.insert(*variances)
        await StockCount.update(
            {StockCount.status: "closed", StockCount.closed_at: utcnow(), StockCount.expected: expected}
        ).where(StockCount.id == count_id)
        await record(actor, "stocktake.close", "stock_count", count_id, after={"variances": len(variances)})
    return len(variances)


async def explain(actor: Actor, variance_id: int, explanation: str) -> None:
    require(actor, Permission.INVENTORY_PAPER)
    explanation = one_line((explanation or "").strip(), "explanation")
    if not 1 <= len(explanation) <= 500:
        raise InvalidInput("Write what explains the difference (up to 500 characters).", field="explanation")
    async with queued_write(Variance._meta.db):
        row = await Variance.select(Variance.stock_count).where(Variance.id == variance_id).first()
        if row is None:
            raise NotFound("No such variance.")
        await _count(row["stock_count"], "closed")
        await Variance.update({Variance.explanation: explanation, Variance.explained_by: actor.name}).where(
            Variance.id == variance_id
        )
        await record(actor, "stocktake.explain", "variance", variance_id, after={"explanation": explanation})


async def sign(actor: Actor, count_id: int, note: str = "") -> None:
    """The supervisor signs the count off once every variance is explained."""
    require(actor, Permission.STOCKTAKE_SIGN)
    note = one_line((note or "").strip(), "note")
    async with queued_write(StockCount._meta.db):
        await _count(count_id, "closed")
        open_ = await Variance.count().where((Variance.stock_count == count_id) & (Variance.explanation == ""))
        if open_:
            raise Conflict("Explain every variance before signing off ({n} still open).", n=open_)
        await StockCount.update(
            {
                StockCount.status: "signed",
                StockCount.signed_at: utcnow(),
                StockCount.signed_by: actor.user_id,
                StockCount.note: note,
            }
        ).where(StockCount.id == count_id)
        await record(actor, "stocktake.sign", "stock_count", count_id, after={"note": note})


@dataclass
class Report:
    id: int
    location: str
    period: str
    status: str
    started_at: dt.datetime
    closed_at: dt.datetime | None
    signed_at: dt.datetime | None
    signed_by: str
    note: str
    lines: list[dict] = field(default_factory=list)  # per category: expected, counted
    variances: list[dict] = field(default_factory=list)


async def report(count_id: int) -> Report:
    count = await _count(count_id)
    signer = ""
    if count["signed_by"]:
        from db.staff.tables import StaffUser

        user = await StaffUser.select(StaffUser.display_name).where(StaffUser.id == count["signed_by"]).first()
        signer = user["display_name"] if user else ""
    counted: dict[str, int] = {}
    for r in await CountedSerial.select(CountedSerial.category).where(CountedSerial.stock_count == count_id):
        counted[r["category"]] = counted.get(r["category"], 0) + 1
    expected = (
        count["expected"]
        if count["status"] != "counting"
        else await _expected({"id": count["location"], "kind": count["location.kind"]})
    )
    if isinstance(expected, str):
        import json

        expected = json.loads(expected)
    lines = [
        {"category": c, "expected": len(expected.get(c, [])), "counted": counted.get(c, 0)}
        for c in sorted(set(expected) | set(counted))
    ]
    variances = await Variance.select().where(Variance.stock_count == count_id).order_by(Variance.id)
    return Report(
        count_id,
        count["location.name"],
        count["period"],
        count["status"],
        count["started_at"],
        count["closed_at"],
        count["signed_at"],
        signer,
        count["note"],
        lines,
        variances,
    )


async def history(limit: int = 50) -> list[dict]:
    return (
        await StockCount.select(
            StockCount.id, StockCount.location.name, StockCount.period, StockCount.status, StockCount.started_at
        )
        .order_by(StockCount.id, ascending=False)
        .limit(limit)
    )


def _when(value: dt.datetime | None) -> str:
    return venue_minute(value) if value else ""


HEADINGS = {
    "title": "票务库存盘点报告 Stock-take report",
    "location": "地点 Location",
    "period": "周期 Period",
    "status": "状态 Status",
    "started": "开始 Started",
    "closed": "结束 Closed",
    "signed": "签核 Signed off",
    "category": "票种 Category",
    "expected": "账面 Ledger",
    "counted": "实盘 Counted",
    "kind": "差异 Variance",
    "serials": "序列号 Serials",
    "explanation": "说明 Explanation",
}


def report_xlsx(rep: Report) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "盘点"
    sheet.append([HEADINGS["title"], f"#{rep.id}"])
    for key, value in (
        ("location", rep.location),
        ("period", rep.period),
        ("status", rep.status),
        ("started", _when(rep.started_at)),
        ("closed", _when(rep.closed_at)),
        ("signed", f"{_when(rep.signed_at)} {rep.signed_by}".strip()),
    ):
        sheet.append([HEADINGS[key], value])
    sheet.append([])
    sheet.append([HEADINGS["category"], HEADINGS["expected"], HEADINGS["counted"]])
    for line in rep.lines:
        sheet.append([line["category"], line["expected"], line["counted"]])
    sheet.append([])
    sheet.append([HEADINGS["category"], HEADINGS["kind"], HEADINGS["serials"], HEADINGS["explanation"]])
    for v in rep.variances:
        sheet.append([v["category"], v["kind"], f"{v['first_serial']}-{v['last_serial']}", v["explanation"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_pdf(rep: Report) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from db.sales.tickets.documents import cjk_font

    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    y = height - 20 * mm

    def line(text: str, size: int = 10) -> None:
        nonlocal y
        if y < 20 * mm:
            pdf.showPage()
            y = height - 20 * mm
        pdf.setFont(font, size)
        pdf.drawString(15 * mm, y, text)
        y -= size * 0.5 * mm + 3 * mm

    line(f"{HEADINGS['title']} #{rep.id}", 14)
    line(
        f"{HEADINGS['location']}: {rep.location}   {HEADINGS['period']}: {rep.period}   "
        f"{HEADINGS['status']}: {rep.status}"
    )
    line(f"{HEADINGS['started']}: {_when(rep.started_at)}   {HEADINGS['closed']}: {_when(rep.closed_at)}")
    line(f"{HEADINGS['signed']}: {_when(rep.signed_at)} {rep.signed_by}  {rep.note}")
    line("")
    for entry in rep.lines:
        line(
            f"{HEADINGS['category']} {entry['category']}: {HEADINGS['expected']} {entry['expected']}, "
            f"{HEADINGS['counted']} {entry['counted']}"
        )
    line("")
    for v in rep.variances:
        line(f"{v['category']} {v['kind']} {v['first_serial']}-{v['last_serial']}: {v['explanation']}", 9)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
