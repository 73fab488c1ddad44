"""Payment at the window and delivery (R3.4 steps 4-5): cash with the change shown (less than the total is a
form error with nothing written), card, the seller's confirmation of receipt; tickets issued with QR images
that decode and verify, the PDF, e-mail through a real SMTP server, SMS outbox, pickup and mailing."""

from __future__ import annotations

import cv2
import numpy as np

from db.audit.tables import AuditEntry
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.tables import Delivery, Order, Payment, SmsMessage, Ticket
from db.sales.tickets.codes import keyring
from db.staff.permissions import Role
from scanner.decode import decode_frame
from tests.helpers import ADMIN_ACTOR, post_form
from tests.sales.support import BUYER, sales_catalog
from tests.sales.ui_support import HX, staff_client
from tests.smtp import smtp_server


async def _two_seats(ids) -> str:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in ids["vip_seats"][:2]],
    )
    return order.code


async def test_cash_short_of_the_total_is_a_form_error_and_nothing_is_written():
    ids = await sales_catalog()
    code = await _two_seats(ids)
    async with staff_client(Role.SELLER, "seller1") as client:
        short = await post_form(
            client, f"/sales/orders/{code}/pay", {"method": "cash", "tendered": "999.99", "received": "on"}, headers=HX
        )
        assert short.status_code == 422 and "实收现金少于应付金额" in short.text
        assert 'id="order-body"' in short.text and 'value="999.99"' in short.text
        unticked = await post_form(
            client, f"/sales/orders/{code}/pay", {"method": "cash", "tendered": "2000"}, headers=HX
        )
        assert unticked.status_code == 422 and "收到款项后请勾选" in unticked.text
        no_slip = await post_form(client, f"/sales/orders/{code}/pay", {"method": "card"}, headers=HX)
        assert no_slip.status_code == 422 and "凭证号或交易单号" in no_slip.text  # the terminal's reference (issue 12)
        blank = await post_form(client, f"/sales/orders/{code}/pay", {"method": "cash", "received": "on"}, headers=HX)
        assert blank.status_code == 422 and "请输入购票人交付的现金金额。" in blank.text
    assert await Payment.count() == 0 and await Ticket.count() == 0
    assert (await Order.select(Order.status).first())["status"] == "held"


async def test_cash_payment_shows_change_and_issues_tickets_whose_qr_codes_verify():
    ids = await sales_catalog()
    code = await _two_seats(ids)
    async with staff_client(Role.SELLER, "seller1") as client:
        paid = await post_form(
            client, f"/sales/orders/{code}/pay", {"method": "cash", "tendered": "1,200", "received": "on"}, headers=HX
        )
        assert paid.status_code == 200 and "已付款。请找零：¥200.00。" in paid.text
        assert 'data-status="paid"' in paid.text and paid.text.count('data-testid="ticket-card"') == 2
        tickets = await Ticket.select(Ticket.id, Ticket.code, Ticket.seat).order_by(Ticket.id)
        for ticket in tickets:
            png = await client.get(f"/sales/tickets/{ticket['id']}/qr.png")
            assert png.headers["content-type"] == "image/png"
            image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
            assert decode_frame(image) == [ticket["code"]]
            claim = keyring().verify(ticket["code"])
            assert claim is not None and claim.ticket_id == ticket["id"] and claim.session_id == ids["seated_session"]
        pdf = await client.get(f"/sales/orders/{code}/tickets.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        again = await post_form(
            client, f"/sales/orders/{code}/pay", {"method": "card", "reference": "000123"}, headers=HX
        )
        assert again.status_code == 409 and "该订单已付款。" in again.text
    payment = await Payment.select().first()
    assert await Payment.count() == 1
    assert (payment["method"], payment["amount_fen"], payment["tendered_fen"], payment["change_fen"]) == (
        "cash",
        100000,
        120000,
        20000,
    )
    assert payment["confirmed_by"] is not None


async def test_delivery_by_email_sms_pickup_and_mail_is_recorded(monkeypatch):
    ids = await sales_catalog()
    code = await _two_seats(ids)
    url = f"/sales/orders/{code}/deliver"
    async with staff_client(Role.SELLER, "seller1") as client:
        unpaid = await post_form(client, url, {"kind": "sms"}, headers=HX)
        assert unpaid.status_code == 409 and "只有已付款的订单才能交付门票。" in unpaid.text
        await post_form(
            client, f"/sales/orders/{code}/pay", {"method": "mobile", "reference": "420000123456"}, headers=HX
        )
        with smtp_server(monkeypatch) as mailbox:
            sent = await post_form(client, url, {"kind": "email"}, headers=HX)
        assert sent.status_code == 200 and "已登记送达。" in sent.text
        assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["xiaoming@example.cn"]
        assert (await post_form(client, url, {"kind": "sms"}, headers=HX)).status_code == 200
        no_tracking = await post_form(client, url, {"kind": "mail"}, headers=HX)
        assert no_tracking.status_code == 422 and "请填写邮寄的快递单号。" in no_tracking.text
        mailed = await post_form(client, url, {"kind": "mail", "note": "SF1234567890"}, headers=HX)
        assert "SF1234567890" in mailed.text
        page = await client.get(f"/sales/orders/{code}")
        for label in ("电子邮箱", "短信", "已邮寄"):
            assert label in page.text
    kinds = sorted(r["kind"] for r in await Delivery.select(Delivery.kind))
    assert kinds == ["email", "mail", "sms"] and await SmsMessage.count() == 1
    assert await AuditEntry.count().where(AuditEntry.action.like("delivery.%")) == 3


async def test_payment_and_tickets_need_sales_sell():
    ids = await sales_catalog()
    code = await _two_seats(ids)
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        refused = await post_form(client, f"/sales/orders/{code}/pay", {"method": "card", "received": "on"})
        assert refused.status_code == 403
        page = await client.get(f"/sales/orders/{code}")
        assert page.status_code == 200 and 'data-testid="pay-form"' not in page.text
    assert await Payment.count() == 0
