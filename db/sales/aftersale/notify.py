"""The customer's refund e-mail (R5.3): what was refunded, the fee and its basis, the money back and how; or,
for a refund request a supervisor declined, why and that the tickets are valid again. Sent through the real
SMTP server (db.sales.delivery) after the refund's transaction, never inside it."""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
from email.message import EmailMessage

from db.core.actor import Actor
from db.sales.aftersale.refunds import RefundResult
from db.sales.delivery.operations import _log_delivery, _send, order_link
from db.sales.queries import get_order

log = logging.getLogger("ticketcenter.refunds")

METHODS_ZH = {
    "cash": "现金",
    "card": "原银行卡",
    "mobile": "原移动支付账户",
    "partner": "购票平台",
    "sandbox": "原在线支付账户",
}
STATES_ZH = {
    "requested": "待主管审批",
    "approved": "已批准，退款处理中",
    "done": "已退款",
    "failed": "退款处理中（人工跟进）",
}


def refund_email(order: dict, refund: RefundResult, sender: str, reason: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = order["buyer_email"]
    if refund.status == "declined":
        message["Subject"] = f"退票申请未获批准 {order['code']} · {order['session.event.name']}"
        message.set_content(
            f"{order['buyer_name']}，您好：\n\n订单 {order['code']} 的退票申请（编号 {refund.number}）未获批准。"
            f"\n原因：{reason}\n所涉 {len(refund.ticket_ids)} 张门票已恢复有效，可正常入场；未发生任何扣款或退款。"
            f"\n订单详情：{order_link(order['code'])}\n\n票务中心"
        )
        return message
    message["Subject"] = f"退票确认 {order['code']} · {order['session.event.name']}"
    message.set_content(
        f"{order['buyer_name']}，您好：\n\n订单 {order['code']} 的 {len(refund.ticket_ids)} 张门票已退票，门票已作废。"
        f"\n退票编号：{refund.number}\n状态：{STATES_ZH.get(refund.status, refund.status)}"
        f"\n手续费：¥{refund.fee_fen / 100:.2f}\n退还金额：¥{refund.refund_fen / 100:.2f}，"
        f"退回{METHODS_ZH.get(refund.method, refund.method)}。"
        f"\n订单详情：{order_link(order['code'])}\n\n票务中心"
    )
    return message


async def send_refund_email(actor: Actor, refund: RefundResult, reason: str = "") -> bool:
    """E-mail the buyer about a refund (a declined one with the approver's `reason`); False (logged, recorded as a
    failed delivery) when it failed or there is no address."""
    order = await get_order(refund.order_code, contact=True)  # the address it goes to
    if not order["buyer_email"]:
        return False
    message = refund_email(order, refund, os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn"), reason)
    try:
        await asyncio.to_thread(_send, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("refund e-mail for order %s failed: %s", refund.order_code, type(exc).__name__)
        await _log_delivery(actor, order, "email", "failed", f"refund {refund.number}: {type(exc).__name__}")
        return False
    await _log_delivery(actor, order, "email", "sent", f"refund {refund.number}")
    return True
