"""Printable and displayable tickets: the QR image (segno) as PNG or SVG, and the PDF e-ticket
(reportlab) with Chinese text in WenQuanYi Zen Hei, a TrueType font reportlab can embed."""

from __future__ import annotations

import asyncio
import io
import os
from functools import cache

import segno
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from db.core.clock import venue_minute
from db.core.i18n import seat_label, translate
from db.sales.aftersale.rules import describe
from db.sales.queries import get_order
from db.sales.tickets.short_numbers import grouped

CJK_FONT_PATH = os.environ.get("TC_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CJK_FONT = "WQYZenHei"


def chinese_seat_label(ticket: dict) -> str:
    """A ticket's seat as the documents (PDF, e-mail) print it, always in Chinese: 池座 3排12座; '' for
    general admission. `ticket` as get_order() returns it."""
    if not ticket["seat"]:
        return ""
    return seat_label(ticket["seat.section"], ticket["seat.row_label"], ticket["seat.number"], "zh_CN")


def qr_png(text: str, scale: int = 6) -> bytes:
    """The ticket's QR code as a PNG (error level M, quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(text: str, scale: int = 4) -> str:
    """The ticket's QR code as SVG markup for web pages."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()


@cache
def cjk_font() -> str:
    """The Chinese font registered with reportlab (once); its name for setFont. Tickets, shift reports, statements."""
    pdfmetrics.registerFont(TTFont(CJK_FONT, CJK_FONT_PATH, subfontIndex=0))
    return CJK_FONT


def render_tickets_pdf(order: dict) -> bytes:
    """One A6 landscape page per ticket of an order as get_order() returns it."""
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=landscape(A6))
    pdf.setTitle(f"电子票 {order['code']}")
    width, height = landscape(A6)
    for ticket in order["tickets"]:
        pdf.setFont(font, 14)
        pdf.drawString(8 * mm, height - 14 * mm, order["session.event.name"])
        pdf.setFont(font, 9)
        lines = [
            f"场馆：{order['session.venue.name']}",
            f"时间：{venue_minute(order['session.starts_at'], order['session.venue.timezone'])}",
            f"票种：{ticket['price_class.name']}"
            + (f"（优惠：{ticket['concession']}）" if ticket["concession"] else ""),
            f"座位：{chinese_seat_label(ticket) or '不设座位'}",
            f"票价：¥{ticket['price_fen'] / 100:.2f}",
            f"订单：{order['code']}",
            "状态：已作废" if ticket["status"] == "revoked" else "入场时请出示此二维码",
        ]
        for i, line in enumerate(lines):
            pdf.drawString(8 * mm, height - (24 + i * 6) * mm, line)
        rules = order.get("refund_rules_zh")
        if rules:  # the buyer's contract (R5.1): the rules version the tickets were sold under
            pdf.setFont(font, 6)
            for i, line in enumerate(simpleSplit("退换票规则：" + " ".join(rules), font, 6, width - 16 * mm)[:4]):
                pdf.drawString(8 * mm, (16 - i * 3) * mm, line)
        qr = ImageReader(io.BytesIO(qr_png(ticket["code"], scale=4)))
        pdf.drawImage(qr, width - 58 * mm, height - 66 * mm, 52 * mm, 52 * mm)
        if ticket.get("short_code"):  # under the QR: the number to type when the code does not read
            pdf.setFont(font, 11)
            pdf.drawCentredString(width - 32 * mm, height - 71 * mm, f"票号 {grouped(ticket['short_code'])}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


async def ticket_pdf(code: str) -> bytes:
    """The printable e-ticket PDF of a paid order (NotFound for an unknown order)."""
    order = await with_rules(await get_order(code))
    return await asyncio.to_thread(render_tickets_pdf, order)


async def with_rules(order: dict) -> dict:
    """The order with its refund and exchange rules in Chinese (`refund_rules_zh`), for the PDF and the e-mail."""
    from db.sales.aftersale.refunds import contract

    rules = describe((await contract(order["code"])).rules)
    return {
        **order,
        "refund_rules_zh": [translate("zh_CN", message, **params) for message, params in rules],
    }  # ~0.2 s of CPU: keep the event loop free
