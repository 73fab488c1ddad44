"""A refund and a scan of the same ticket at the same moment (R5.3, R1.2): exactly one wins, never both:
admitted and the refund refused ("already used"), or refunded and the scan refused ("revoked")."""

from __future__ import annotations

import asyncio

from db.catalog.tables import EventSession
from db.finance.tables import LedgerEntry
from db.gate.redeem import redeem
from db.gate.tables import Admission
from db.sales.aftersale.refunds import RefundRefused, request_refund
from db.sales.aftersale.tables import Refund
from db.sales.tables import Order, Ticket
from tests.aftersale.support import SELLER, paid_seats, staff
from tests.helpers import utc
from tests.sales.support import sales_catalog


async def test_refund_and_scan_of_one_ticket_at_once_end_with_exactly_one_winner():
    ids = await sales_catalog()
    await staff()
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    codes = [await paid_seats(ids, [seat]) for seat in ids["seats"]]  # ten orders of one seat each
    outcomes = []
    for round_ in range(3):  # the scan first, the refund first, and both at once
        for code in codes:
            ticket = await Ticket.select(Ticket.id, Ticket.code, Ticket.status).where(Ticket.order.code == code).first()
            if ticket["status"] != "issued" or await Admission.exists().where(Admission.ticket == ticket["id"]):
                continue
            scan = redeem(ticket["code"], "T-N")
            refund = request_refund(SELLER, code, channel="box_office")
            pair = (scan, refund) if round_ != 1 else (refund, scan)
            results = await asyncio.gather(*pair, return_exceptions=True)
            verdict = next(r for r in results if isinstance(r, dict))
            refunded = next(r for r in results if not isinstance(r, dict))
            outcomes.append((verdict["status"], type(refunded).__name__))
            if isinstance(refunded, RefundRefused):
                assert refunded.reason == "already_used" and verdict["status"] == "ok"
            else:
                assert not isinstance(refunded, Exception), refunded
                assert verdict["status"] == "revoked"
            break
    # Every ticket: refunded XOR admitted, and the books agree.
    for code in codes:
        order = await Order.select(Order.id, Order.status).where(Order.code == code).first()
        ticket = await Ticket.select(Ticket.id, Ticket.status).where(Ticket.order == order["id"]).first()
        admitted = await Admission.exists().where(Admission.ticket == ticket["id"])
        refunds = await Refund.count().where(Refund.order == order["id"])
        assert not (admitted and ticket["status"] == "revoked")
        assert refunds == (1 if ticket["status"] == "revoked" else 0)
        entries = await LedgerEntry.count().where((LedgerEntry.order == order["id"]) & (LedgerEntry.kind == "refund"))
        assert entries == refunds
    assert len(outcomes) >= 1


async def test_many_refunds_and_scans_at_once_never_both():
    ids = await sales_catalog()
    await staff()
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    codes = [await paid_seats(ids, [seat]) for seat in ids["seats"]]
    tickets = [await Ticket.select(Ticket.id, Ticket.code).where(Ticket.order.code == c).first() for c in codes]
    work = []
    for code, ticket in zip(codes, tickets, strict=True):
        work += [
            redeem(ticket["code"], "T-N"),
            redeem(ticket["code"], "T-S"),
            request_refund(SELLER, code, channel="box_office"),
        ]
    results = await asyncio.gather(*work, return_exceptions=True)
    for i, ticket in enumerate(tickets):
        scans, refund = results[3 * i : 3 * i + 2], results[3 * i + 2]
        oks = [s for s in scans if s["status"] == "ok"]
        if isinstance(refund, Exception):
            assert isinstance(refund, RefundRefused) and refund.reason == "already_used", refund
            assert len(oks) == 1
        else:
            assert not oks and {s["status"] for s in scans} == {"revoked"}
        row = await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first()
        admitted = await Admission.exists().where(Admission.ticket == ticket["id"])
        assert admitted != (row["status"] == "revoked")
