"""Finance documents in Chinese (issue 12): the shift report (PDF) and the partner statement (PDF, XLSX).
reportlab with the CJK font the tickets use (db/sales/tickets/documents.py cjk_font); the spreadsheet through the
reports' streaming XLSX writer (db/reports/xlsx.py)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from db.core.clock import venue_minute
from db.finance.shifts import variances
from db.finance.tables import LedgerEntry
from db.reports import xlsx
from db.sales.tickets.documents import cjk_font

METHOD_ZH = {"cash": "现金", "card": "银行卡", "mobile": "移动支付", "partner": "合作方代收", "sandbox": "在线支付"}
KIND_ZH = {"payment": "收款", "refund": "退款", "price_difference": "改签差价"}
SHIFT_STATUS_ZH = {"open": "当班", "review": "待主管签核", "closed": "已结班"}


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def _styles(font: str) -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16, spaceBefore=3 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    return title, heading, body


def _table(rows: list[list[str]], font: str, widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#99a")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _pdf(story: Iterable) -> bytes:
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm).build(list(story))
    return out.getvalue()


async def shift_entries(shift_id: int) -> list[dict]:
    return (
        await LedgerEntry.select(
            LedgerEntry.at,
            LedgerEntry.kind,
            LedgerEntry.method,
            LedgerEntry.amount_fen,
            LedgerEntry.reference,
            LedgerEntry.order.code,
        )
        .where((LedgerEntry.shift_id == shift_id) & LedgerEntry.kind.is_in(list(KIND_ZH)))
        .order_by(LedgerEntry.id)
    )


def render_shift_pdf(shift: dict, entries: list[dict], variances: list) -> bytes:
    font = cjk_font()
    title, heading, body = _styles(font)
    story: list = [Paragraph(f"班次结算报表 · {shift['window.name']}", title)]
    facts = [
        ["班次", str(shift["id"]), "状态", SHIFT_STATUS_ZH.get(shift["status"], shift["status"])],
        ["售票员", shift["seller_name"], "备用金", yuan(shift["float_fen"])],
        [
            "开班",
            venue_minute(shift["opened_at"]),
            "清点",
            venue_minute(shift["counted_at"]) if shift["counted_at"] else "—",
        ],
        [
            "结班",
            venue_minute(shift["closed_at"]) if shift["closed_at"] else "—",
            "允许差额",
            yuan(shift["tolerance_fen"]),
        ],
    ]
    story.append(_table(facts, font, [25 * mm, 60 * mm, 25 * mm, 60 * mm]))
    story.append(Paragraph("现金清点（盲点）", heading))
    notes = [["面额", "张/枚", "金额"]]
    for value, pieces in sorted(shift["notes"].items(), reverse=True):
        notes.append([yuan(value), str(pieces), yuan(value * pieces)])
    notes.append(["合计", "", yuan(shift["cash_counted_fen"])])
    story.append(_table(notes, font, [40 * mm, 30 * mm, 40 * mm]))
    story.append(Paragraph("各支付方式：应有、实点与差额", heading))
    rows = [["方式", "账面应有", "实点 / 小票", "差额"]]
    for v in variances:
        rows.append([METHOD_ZH[v.method], yuan(v.expected_fen), yuan(v.counted_fen), yuan(v.difference_fen)])
    story.append(_table(rows, font, [30 * mm, 40 * mm, 40 * mm, 40 * mm]))
    if shift["explanation"]:
        story += [Paragraph("差额说明（售票员）", heading), Paragraph(shift["explanation"], body)]
    if shift["signed_off_name"]:
        note = f"{shift['signed_off_name']}：{shift['signed_off_note'] or '同意'}"
        story += [Paragraph("主管签核", heading), Paragraph(note, body)]
    story.append(Paragraph(f"本班收付明细（{len(entries)} 笔）", heading))
    lines = [["时间", "订单", "类型", "方式", "凭证号/交易单号", "金额"]]
    for e in entries:
        lines.append(
            [
                venue_minute(e["at"]),
                e["order.code"],
                KIND_ZH.get(e["kind"], e["kind"]),
                METHOD_ZH.get(e["method"], e["method"]),
                e["reference"],
                yuan(e["amount_fen"]),
            ]
        )
    story.append(_table(lines, font, [30 * mm, 35 * mm, 18 * mm, 20 * mm, 40 * mm, 27 * mm]))
    story += [Spacer(1, 8 * mm), Paragraph("售票员签字：＿＿＿＿＿＿　　主管签字：＿＿＿＿＿＿", body)]
    return _pdf(story)


async def shift_pdf(shift: dict) -> bytes:
    entries = await shift_entries(shift["id"])
    return await asyncio.to_thread(render_shift_pdf, shift, entries, variances(shift))


STATEMENT_STATUS_ZH = {"draft": "草稿", "confirmed": "已确认", "paid": "已付款", "discarded": "已作废"}
STATEMENT_HEADER = ("订单号", "销售额", "退款额", "售出张数", "退票张数", "佣金", "应结金额")


def _statement_facts(statement: dict, agreement: dict) -> list[list[str]]:
    terms = f"{agreement['commission_bp'] / 100:g}%" + (
        f" + 每张 {yuan(agreement['per_ticket_fen'])}" if agreement["per_ticket_fen"] else ""
    )
    partner = statement["partner.name"] + (f" · {statement['outlet']}" if statement["outlet"] else "")
    return [
        ["合作方", partner, "状态", STATEMENT_STATUS_ZH.get(statement["status"], statement["status"])],
        ["结算期间", f"{statement['period_start']} 至 {statement['period_end']}", "佣金条款", terms],
        ["销售额", yuan(statement["sales_fen"]), "退款额", yuan(statement["refunds_fen"])],
        ["佣金", yuan(statement["commission_fen"]), "应结金额", yuan(statement["due_fen"])],
        ["订单数", str(statement["orders"]), "净票数", str(statement["tickets"])],
    ]


def _line_cells(line) -> list:
    return [
        line.code,
        yuan(line.sales_fen),
        yuan(line.refunds_fen),
        str(line.tickets_sold),
        str(line.tickets_refunded),
        yuan(line.commission_fen),
        yuan(line.due_fen),
    ]


def render_statement_pdf(statement: dict, agreement: dict, lines: list) -> bytes:
    font = cjk_font()
    title, heading, body = _styles(font)
    story: list = [Paragraph(f"合作方结算单 No.{statement['id']}", title)]
    story.append(_table(_statement_facts(statement, agreement), font, [25 * mm, 60 * mm, 25 * mm, 60 * mm]))
    story.append(Paragraph("应结金额 = 销售额 - 退款额 - 佣金；每行对应一个订单。", body))
    story.append(Paragraph(f"明细（{len(lines)} 行）", heading))
    rows = [list(STATEMENT_HEADER)] + [_line_cells(line) for line in lines]
    story.append(_table(rows, font))
    story += [Spacer(1, 6 * mm), Paragraph(f"校验码 SHA-256：{statement['digest']}", body)]
    return _pdf(story)


async def write_statement_xlsx(path: Path, statement: dict, agreement: dict, batches: AsyncIterator[list]) -> None:
    """The statement as a spreadsheet written batch by batch (db/reports/xlsx.py streams the sheet into the
    zip): the header, the totals, one row per order (amounts in yuan as numbers), then the statement's facts."""
    money = xlsx.MONEY
    styles = [None, money, money, None, None, money, money]
    book = await asyncio.to_thread(xlsx.XlsxWriter, path, f"结算单 {statement['id']}", list(STATEMENT_HEADER), styles)
    try:
        total = ["合计", statement["sales_fen"] / 100, statement["refunds_fen"] / 100, "", ""]
        book.rows([[*total, statement["commission_fen"] / 100, statement["due_fen"] / 100]])
        async for batch in batches:
            rows = [
                [
                    line.code,
                    line.sales_fen / 100,
                    line.refunds_fen / 100,
                    line.tickets_sold,
                    line.tickets_refunded,
                    line.commission_fen / 100,
                    line.due_fen / 100,
                ]
                for line in batch
            ]
            await asyncio.to_thread(book.rows, rows)
        book.rows([[]] + _statement_facts(statement, agreement) + [["校验码 SHA-256", statement["digest"]]])
    finally:
        await asyncio.to_thread(book.close)
