"""Delivering tickets (R3.4 step 5): e-mail with the PDF through a real SMTP connection, an SMS through
a provider (the outbox table here), and paper tickets picked up or mailed. Each leaves a Delivery row
and an audit record; customer details never go to the log."""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Protocol

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow, venue_minute
from db.core.errors import Conflict, InvalidInput
from db.core.transaction import queued_write
from db.sales.queries import get_order
from db.sales.status import PAID
from db.sales.tables import Delivery, SmsMessage
from db.sales.tickets.documents import chinese_seat_label, render_tickets_pdf, with_rules
from db.sales.tickets.short_numbers import grouped

log = logging.getLogger("ticketcenter.delivery")
HANDOVER_KINDS = ("pickup", "mail")


def smtp_address() -> tuple[str, int]:
    return os.environ.get("SMTP_HOST", "localhost"), int(os.environ.get("SMTP_PORT", "1025"))


def order_link(code: str) -> str:
    """The short link customers open to see their order and tickets (the public shop's order page)."""
    return f"{os.environ.get('PUBLIC_BASE_URL', 'https://tickets.example.cn').rstrip('/')}/o/{code}"


async def _paid_order(code: str) -> dict:
    order = await get_order(code, contact=True)  # the address it goes to
    if order["status"] != PAID or not order["tickets"]:
        raise Conflict("Tickets are delivered only for a paid order.")
    return order


async def _log_delivery(actor: Actor, order: dict, kind: str, status: str, note: str = "") -> None:
    async with queued_write(Delivery._meta.db):
        await Delivery.insert(
            Delivery(order=order["id"], kind=kind, status=status, at=utcnow(), actor_name=actor.name, note=note)
        )
        await record(actor, f"delivery.{kind}", "order", order["code"], after={"status": status, "note": note})


def ticket_email(order: dict, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"您的电子票 {order['code']} · {order['session.event.name']}"
    message["From"] = sender
    message["To"] = order["buyer_email"]
    codes = "\n".join(
        f"{chinese_seat_label(t) or t['price_class.name']}: {t['code']}\n（票号 {grouped(t['short_code'])}）"
        for t in order["tickets"]
    )
    message.set_content(
        f"{order['buyer_name']}，您好：\n\n"
        f"订单 {order['code']} 已出票，共 {len(order['tickets'])} 张，电子票见附件 PDF。\n"
        f"{order['session.event.name']} · {order['session.venue.name']} · "
        f"{venue_minute(order['session.starts_at'], order['session.venue.timezone'])}（当地时间）\n"
        f"\n入场时请出示二维码；二维码无法识别时，检票员可输入票号。订单详情：{order_link(order['code'])}\n\n二维码内容：\n{codes}\n\n"
        + ("退换票规则：\n" + "\n".join(order["refund_rules_zh"]) + "\n\n" if order.get("refund_rules_zh") else "")
        + "票务中心"
    )
    message.add_attachment(
        render_tickets_pdf(order), maintype="application", subtype="pdf", filename=f"tickets-{order['code']}.pdf"
    )
    return message


def _send(message: EmailMessage) -> None:
    host, port = smtp_address()
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        smtp.send_message(message)


async def send_ticket_email(actor: Actor, code: str) -> None:
    """E-mail the e-tickets (PDF attached, QR texts in the body). Conflict if unpaid or no address;
    an SMTP failure is recorded as a failed delivery and raised as Conflict."""
    order = await with_rules(await _paid_order(code))
    if not order["buyer_email"]:
        raise InvalidInput("The order has no e-mail address; use SMS or print the tickets.", field="email")
    sender = os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn")
    message = await asyncio.to_thread(ticket_email, order, sender)  # renders the PDF off the event loop
    try:
        await asyncio.to_thread(_send, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("ticket e-mail for order %s failed: %s", code, type(exc).__name__)
        refused = isinstance(exc, smtplib.SMTPRecipientsRefused)
        await _log_delivery(actor, order, "email", "failed", EMAIL_REFUSED if refused else EMAIL_UNREACHABLE)
        raise Conflict(EMAIL_REFUSED if refused else EMAIL_UNREACHABLE) from None
    await _log_delivery(actor, order, "email", "sent")


# What the seller reads when an e-mail fails (the delivery's note and the page's message), never the exception's name.
EMAIL_UNREACHABLE = (
    "The mail server did not answer, so the e-mail was not sent. Try again in a few minutes, "
    "or send the SMS link or print the tickets."
)
EMAIL_REFUSED = "The mail server refused the buyer's address. Check the address with the buyer, or print the tickets."


class SmsProvider(Protocol):
    async def send(self, order_id: int, phone: str, body: str) -> None: ...


class OutboxSms:
    """Stores messages in the outbox table, from which an SMS gateway sends them."""

    async def send(self, order_id: int, phone: str, body: str) -> None:
        await SmsMessage.insert(SmsMessage(order=order_id, phone=phone, body=body, created_at=utcnow()))


def sms_text(order: dict) -> str:
    return f"【票务中心】订单{order['code']}已出票{len(order['tickets'])}张，入场二维码：{order_link(order['code'])}"


async def send_ticket_sms(actor: Actor, code: str, provider: SmsProvider | None = None) -> None:
    """Text the buyer the order code and the link to the e-tickets (never the ticket codes themselves)."""
    order = await _paid_order(code)
    if not order["buyer_phone"]:
        raise InvalidInput("The order has no phone number; e-mail or print the tickets.", field="phone")
    async with queued_write(Delivery._meta.db):
        await (provider or OutboxSms()).send(order["id"], order["buyer_phone"], sms_text(order))
        await Delivery.insert(
            Delivery(order=order["id"], kind="sms", status="sent", at=utcnow(), actor_name=actor.name)
        )
        await record(actor, "delivery.sms", "order", code, after={"status": "sent"})


async def deliver_e_tickets(actor: Actor, code: str) -> str | None:
    """Send the e-tickets where the buyer left a contact: the e-mail, else an SMS with the link; None when the
    buyer left neither (the tickets are printed). Raises as send_ticket_email and send_ticket_sms do."""
    order = await _paid_order(code)
    if order["buyer_email"]:
        await send_ticket_email(actor, code)
        return "email"
    if order["buyer_phone"]:
        await send_ticket_sms(actor, code)
        return "sms"
    return None


async def record_handover(actor: Actor, code: str, kind: str, note: str = "") -> None:
    """Paper tickets picked up at the window or mailed (note: e.g. the courier's tracking number)."""
    if kind not in HANDOVER_KINDS:
        raise InvalidInput("Choose pickup or mailing.", field="kind")
    note = note.strip()
    if kind == "mail" and not note:
        raise InvalidInput("Enter the tracking number of the mailing.", field="note")
    order = await _paid_order(code)
    await _log_delivery(actor, order, kind, "done", note)
