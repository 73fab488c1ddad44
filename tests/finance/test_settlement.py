"""Partner settlement (issue 12, R8.1): a statement per partner and period from the ledger, sales - refunds -
commission = due with every line an order; a refund after the period in the cycle it happens; draft ->
confirmed -> paid; reproducible to the fen; an overlapping period refused (also two at once); the partner reads
its confirmed statements through the partner API; PDF and XLSX."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput
from db.finance import budgets, ledger, settlement
from db.finance.documents import render_statement_pdf, write_statement_xlsx
from db.finance.ledger import venue_day
from db.finance.reconciliation import day_window
from db.finance.tables import LedgerEntry, Statement
from db.sales.aftersale.refunds import request_refund
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import pay_prepaid
from db.sales.tables import Order, Partner, Ticket
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, http_client, post_form
from tests.sales.support import AUTH, BUYER, sales_catalog
from tests.sales.ui_support import staff_client

AUDITOR = Actor(None, "王芳", "auditor")
TODAY = venue_day(dt.datetime.now(dt.UTC))
START, END = TODAY - dt.timedelta(days=8), TODAY - dt.timedelta(days=2)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return day_window(day)[0] + dt.timedelta(hours=hour)


async def _partner_order(ids: dict, partner_id: int, seats: list[int], paid_on: dt.date, outlet: str = "") -> str:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="partner",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in seats],
        partner_id=partner_id,
        outlet=outlet,
    )
    await pay_prepaid(ADMIN_ACTOR, order.code, partner_id, now=_at(paid_on))
    return order.code


async def _setup() -> tuple[dict, int]:
    ids = await sales_catalog()
    partner_id = (await Partner.select(Partner.id).first())["id"]
    await settlement.save_agreement(
        AUDITOR,
        partner_id,
        commission_bp=550,  # 5.5 %
        per_ticket_fen=200,  # 2 yuan a ticket
        cycle="weekly",
        settlement_day=1,
        valid_from=TODAY - dt.timedelta(days=60),
    )
    return ids, partner_id


async def test_a_statement_from_the_ledger_line_per_order_confirmed_paid_and_reproducible(tmp_path):
    ids, partner = await _setup()
    vip, a_seats = ids["vip_seats"], [s for s in ids["seats"] if s not in ids["vip_seats"]]
    two = await _partner_order(ids, partner, vip[0:2], START + dt.timedelta(days=1))  # 2 x 500 yuan
    one = await _partner_order(ids, partner, a_seats[0:1], START + dt.timedelta(days=2))  # 200 yuan
    later = await _partner_order(ids, partner, a_seats[1:2], TODAY - dt.timedelta(days=1))  # after the period
    ticket = (await Ticket.select(Ticket.id).where(Ticket.order.code == two).order_by(Ticket.id).first())["id"]
    refund = await request_refund(
        ADMIN_ACTOR, two, [ticket], channel="partner", partner_id=partner, now=_at(START + dt.timedelta(days=3))
    )
    statement_id = await settlement.create_statement(AUDITOR, partner, START, END)
    row, rerun = await settlement.verify(statement_id)
    assert rerun.same and rerun.due_fen == row["due_fen"] and row["status"] == settlement.DRAFT
    stored = await settlement.lines(statement_id)
    lines = {line.code: line for line in stored}
    assert set(lines) == {two, one}  # every line an order of the period; `later` is not in it
    assert (lines[two].sales_fen, lines[two].refunds_fen) == (100000, refund.refund_fen)
    assert (lines[two].tickets_sold, lines[two].tickets_refunded) == (2, 1)
    net = 100000 - refund.refund_fen
    assert lines[two].commission_fen == (net * 550 + 5000) // 10000 + 200
    assert lines[one].commission_fen == 1100 + 200
    for line in stored:  # the SQL's commission is the rule's
        sold = line.tickets_sold - line.tickets_refunded
        assert line.commission_fen == settlement.commission(line.sales_fen - line.refunds_fen, sold, 550, 200)
    assert row["sales_fen"] == 120000 and row["refunds_fen"] == refund.refund_fen and row["orders"] == 2
    assert row["due_fen"] == row["sales_fen"] - row["refunds_fen"] - row["commission_fen"]
    assert row["due_fen"] == sum(line.due_fen for line in stored)

    with pytest.raises(Conflict):
        await settlement.mark_paid(AUDITOR, statement_id, "HX20261201")  # a draft is not paid
    await settlement.confirm(AUDITOR, statement_id)
    # After the period: a refund of `one` and more sales. The confirmed period re-runs to the fen.
    ticket_one = (await Ticket.select(Ticket.id).where(Ticket.order.code == one).first())["id"]
    await request_refund(ADMIN_ACTOR, one, [ticket_one], channel="partner", partner_id=partner)
    _, again = await settlement.verify(statement_id)
    assert again.same and again.due_fen == row["due_fen"]
    # ... and the refund falls in the cycle in which it happens: a line of sales 0 giving the commission back.
    next_id = await settlement.create_statement(
        AUDITOR, partner, END + dt.timedelta(days=1), TODAY - dt.timedelta(days=1)
    )
    back = {line.code: line for line in await settlement.lines(next_id)}
    assert back[later].sales_fen == 20000 and later in back
    assert one not in back  # its refund happened today, after this period too
    # The same period made twice gives the same digest to the fen.
    await settlement.discard(AUDITOR, next_id)
    again_id = await settlement.create_statement(
        AUDITOR, partner, END + dt.timedelta(days=1), TODAY - dt.timedelta(days=1)
    )
    twice = [await settlement.get_statement(i) for i in (next_id, again_id)]
    assert twice[0]["digest"] == twice[1]["digest"] and twice[0]["due_fen"] == twice[1]["due_fen"]

    with pytest.raises(InvalidInput):
        await settlement.mark_paid(AUDITOR, statement_id, "x")  # a transfer reference is required
    await settlement.mark_paid(AUDITOR, statement_id, "HX20261201-0042")
    paid = await settlement.get_statement(statement_id)
    assert paid["status"] == settlement.PAID and paid["paid_reference"] == "HX20261201-0042"
    agreement = await settlement.agreement_of(paid)
    pdf = render_statement_pdf(paid, agreement, stored)
    assert pdf.startswith(b"%PDF") and b"WenQuanYiZenHei" in pdf
    path = tmp_path / "statement.xlsx"
    await write_statement_xlsx(path, paid, agreement, settlement.line_batches(statement_id, size=1))
    values = list(load_workbook(io.BytesIO(path.read_bytes()), read_only=True).active.iter_rows(values_only=True))
    assert values[1][0] == "合计" and values[1][-1] == paid["due_fen"] / 100
    assert [r[0] for r in values[2:4]] == [line.code for line in stored]  # every line, a batch at a time
    assert any(r and r[1] == paid["digest"] for r in values)


async def test_an_outlets_orders_are_settled_under_its_own_agreement():
    """R8.1: agreements per partner and outlet. The partner API records the outlet that sold an order; the
    outlet's statement has its orders at its terms, the partner's own statement the rest; a ledger change in a
    draft's period is seen by the re-run and the draft cannot be confirmed."""
    ids, partner = await _setup()
    await settlement.save_agreement(
        AUDITOR,
        partner,
        commission_bp=1000,  # 10 % at the outlet
        per_ticket_fen=0,
        cycle="weekly",
        settlement_day=1,
        valid_from=TODAY - dt.timedelta(days=60),
        outlet="西湖门店",
    )
    seats = [s for s in ids["seats"] if s not in ids["vip_seats"]]  # 200 yuan each
    async with http_client() as client:
        placed = await client.post(
            "/api/v1/orders",
            headers=AUTH,
            json={
                "session_id": ids["seated_session"],
                "items": [{"seat_id": seats[0]}],
                "buyer": {"name": "门店顾客", "phone": "13800138001"},
                "outlet": " 西湖门店 ",
            },
        )
        assert placed.status_code == 201, placed.text
        at_outlet = placed.json()["code"]
        too_long = await client.post(
            "/api/v1/orders",
            headers=AUTH,
            json={
                "session_id": ids["seated_session"],
                "items": [{"seat_id": seats[1]}],
                "buyer": {"name": "x", "phone": "13800138001"},
                "outlet": "门" * 61,
            },
        )
        assert too_long.status_code == 400
    assert (await Order.select(Order.outlet).where(Order.code == at_outlet).first())["outlet"] == "西湖门店"
    await pay_prepaid(ADMIN_ACTOR, at_outlet, partner, now=_at(START))
    own = await _partner_order(ids, partner, seats[2:3], START)  # outlet: none named
    other_shop = await _partner_order(ids, partner, seats[3:4], START, outlet="另一家店")  # no agreement of its own

    outlet_id = await settlement.create_statement(AUDITOR, partner, START, END, outlet="西湖门店")
    own_id = await settlement.create_statement(AUDITOR, partner, START, END)  # no overlap: another outlet
    assert [line.code for line in await settlement.lines(outlet_id)] == [at_outlet]
    assert [line.code for line in await settlement.lines(own_id)] == [own, other_shop]
    outlet_row = await settlement.get_statement(outlet_id)
    assert outlet_row["outlet"] == "西湖门店" and outlet_row["commission_fen"] == 2000  # 10 % of 200 yuan
    assert (await settlement.get_statement(own_id))["commission_fen"] == 2 * (1100 + 200)  # 5.5 % + 2 yuan
    with pytest.raises(Conflict):
        await settlement.create_statement(AUDITOR, partner, START, START, outlet="西湖门店")
    with pytest.raises(Conflict):  # an outlet without an agreement has no statement of its own
        await settlement.create_statement(AUDITOR, partner, START, END, outlet="另一家店")

    ticket = (await Ticket.select(Ticket.id).where(Ticket.order.code == at_outlet).first())["id"]
    await request_refund(ADMIN_ACTOR, at_outlet, [ticket], channel="partner", partner_id=partner, now=_at(END))
    _, rerun = await settlement.verify(outlet_id)
    assert not rerun.same and rerun.due_fen != outlet_row["due_fen"]
    with pytest.raises(Conflict):
        await settlement.confirm(AUDITOR, outlet_id)
    assert (await settlement.verify(own_id))[1].same


async def test_money_sums_past_two_to_the_31_fen_are_kept_to_the_fen():
    """BigInt money columns: a statement of a big partner and a year's budget pass 21,474,836.47 yuan."""
    ids, partner = await _setup()
    codes = [await _partner_order(ids, partner, [seat], START) for seat in ids["vip_seats"][0:2]]
    big = 1_500_000_000  # 15 million yuan each, as a partner's bulk payment
    for code in codes:
        order_id = (await Order.select(Order.id).where(Order.code == code).first())["id"]
        await ledger.post(
            ADMIN_ACTOR, _at(START), order_id, [ledger.Movement(ledger.PAYMENT, big, "partner")], partner_id=partner
        )
    statement_id = await settlement.create_statement(AUDITOR, partner, START, END)
    row = await settlement.get_statement(statement_id)
    assert row["sales_fen"] == 2 * (big + 50000) > 2**31
    assert (
        row["due_fen"] == row["sales_fen"] - row["commission_fen"] and (await settlement.verify(statement_id))[1].same
    )
    year = TODAY.year
    await budgets.set_budget(AUDITOR, year, "ticket_income", budgets.parse_months("1,30000000.01"))
    await budgets.record_cost(AUDITOR, TODAY, "upstream_purchase", 2_500_000_000, "整场包销")
    table = {r.category: r for r in await budgets.table(year)}
    assert table["ticket_income"].budget[0] == 3_000_000_001
    assert table["upstream_purchase"].actual[TODAY.month - 1] == 2_500_000_000


async def test_a_period_overlapping_a_confirmed_statement_is_refused_and_nothing_is_written():
    ids, partner = await _setup()
    await _partner_order(ids, partner, ids["vip_seats"][0:1], START)
    first = await settlement.create_statement(AUDITOR, partner, START, END)
    await settlement.confirm(AUDITOR, first)
    for start, end in ((START, END), (END, END), (START - dt.timedelta(days=3), START)):
        with pytest.raises(Conflict) as refused:
            await settlement.create_statement(AUDITOR, partner, start, end)
        assert refused.value.params["id"] == first
    today = venue_day(dt.datetime.now(dt.UTC))  # not TODAY: the suite may have crossed the venue's midnight
    with pytest.raises(InvalidInput):  # the period must have ended
        await settlement.create_statement(AUDITOR, partner, END + dt.timedelta(days=1), today)
    with pytest.raises(InvalidInput):
        await settlement.create_statement(AUDITOR, partner, END, START)
    assert await Statement.count() == 1


async def test_two_overlapping_statements_at_once_one_wins():
    ids, partner = await _setup()
    await _partner_order(ids, partner, ids["vip_seats"][0:1], START)
    results = await asyncio.gather(
        settlement.create_statement(AUDITOR, partner, START, END),
        settlement.create_statement(AUDITOR, partner, START + dt.timedelta(days=1), END),
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 1 and sum(isinstance(r, Conflict) for r in results) == 1
    assert await Statement.count() == 1


async def test_bad_agreement_terms_are_refused():
    await sales_catalog()
    partner = (await Partner.select(Partner.id).first())["id"]
    kwargs = {"commission_bp": 500, "per_ticket_fen": 0, "cycle": "weekly", "settlement_day": 1, "valid_from": TODAY}
    for bad, field in (
        ({"commission_bp": 10001}, "percent"),
        ({"cycle": "daily"}, "cycle"),
        ({"settlement_day": 8}, "settlement_day"),
        ({"cycle": "monthly", "settlement_day": 31}, "settlement_day"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await settlement.save_agreement(AUDITOR, partner, **{**kwargs, **bad})
        assert refused.value.field == field


def test_commission_rounds_half_up_symmetrically_and_last_period_follows_the_cycle():
    assert settlement.commission(12345, 3, 550, 200) == 679 + 600
    assert settlement.commission(-12345, -1, 550, 200) == -679 - 200
    weekly = {"cycle": "weekly", "settlement_day": 1}
    start, end = settlement.last_period(weekly, dt.date(2026, 12, 3))  # a Thursday
    assert (start, end) == (dt.date(2026, 11, 24), dt.date(2026, 11, 30))
    monthly = {"cycle": "monthly", "settlement_day": 1}
    assert settlement.last_period(monthly, dt.date(2026, 12, 3)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


async def test_partners_read_their_confirmed_statements_through_the_api():
    ids, partner = await _setup()
    code = await _partner_order(ids, partner, ids["vip_seats"][0:1], START)
    draft = await settlement.create_statement(AUDITOR, partner, START, START)
    headers = {"Authorization": "Bearer demo-partner-key"}
    async with http_client() as client:
        assert (await client.get("/api/v1/statements")).status_code == 401
        assert (await client.get("/api/v1/statements", headers=headers)).json() == []  # drafts are not shown
        assert (await client.get(f"/api/v1/statements/{draft}", headers=headers)).status_code == 404
        await settlement.confirm(AUDITOR, draft)
        [listed] = (await client.get("/api/v1/statements", headers=headers)).json()
        assert listed["id"] == draft and listed["due_fen"] == 50000 - listed["commission_fen"]
        detail = (await client.get(f"/api/v1/statements/{draft}", headers=headers)).json()
        assert [line["order_code"] for line in detail["lines"]] == [code]
        assert detail["lines"][0]["due_fen"] == detail["due_fen"]
    assert await LedgerEntry.count() > 0


async def test_the_statement_pages_make_confirm_and_export():
    ids, partner = await _setup()
    await _partner_order(ids, partner, ids["vip_seats"][0:1], START)
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        page = await client.get("/finance/statements")
        assert page.status_code == 200 and 'data-testid="new-statement"' in page.text
        form = {"partner": str(partner), "start": START.isoformat(), "end": END.isoformat()}
        made = await post_form(client, "/finance/statements", form)
        assert made.status_code == 303
        statement_url = made.headers["location"]
        confirmed = await post_form(client, f"{statement_url}/confirm")
        assert confirmed.status_code == 200 and 'data-testid="reproduced"' in confirmed.text
        overlap = await post_form(client, "/finance/statements", form)
        assert overlap.status_code == 409 and 'data-testid="form-error"' in overlap.text
        bad_day = await post_form(client, "/finance/statements", {**form, "start": "2026-02-30"})
        assert bad_day.status_code == 422 and 'aria-invalid="true"' in bad_day.text
        xlsx = await client.get(f"{statement_url}?format=xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        pdf = await client.get(f"{statement_url}?format=pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    async with staff_client(Role.SELLER, "seller1") as seller:
        assert (await seller.get("/finance/statements")).status_code == 403
    assert await Statement.count() == 1
