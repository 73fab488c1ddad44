"""The daily three-way match (issue 12, R8.2 账账相符): the sandbox provider's statement fetched over real HTTP
from the app served by uvicorn, every mismatch in the exception queue, resolved with a note; a day closes only
with an empty queue, and a closed day cannot change (re-match, resolution and a ledger entry dated in it are
refused; nothing is written)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput
from db.finance import reconciliation as recon
from db.finance.ledger import venue_day
from db.finance.tables import LedgerEntry, ReconException
from db.sales.aftersale.refunds import record_provider_outcome, request_refund
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments import sandbox
from db.sales.payments.operations import handle_payment_callback, sandbox_pay, start_online_payment
from db.sales.payments.providers import provider
from db.sales.tables import Payment
from db.staff.permissions import Role
from tests.browser.conftest import live_server  # noqa: F401  (the real app over HTTP)
from tests.finance.support import SELLER, sales_catalog, staff, window_sale
from tests.helpers import ADMIN_ACTOR, post_form
from tests.sales.support import BUYER
from tests.sales.ui_support import HX, staff_client

AUDITOR = Actor(None, "王芳", "auditor")


def _yesterday_noon() -> dt.datetime:
    day = venue_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    return recon.day_window(day)[0] + dt.timedelta(hours=12)


async def _online_order(ids: dict, seats: list[int]) -> tuple[str, str]:
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="web_shop",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in seats],
    )
    checkout = await start_online_payment(ADMIN_ACTOR, order.code)
    return order.code, checkout.reference


async def test_statement_over_http_mismatches_queued_resolved_and_the_closed_day_frozen(live_server):  # noqa: F811
    ids = await sales_catalog()
    await staff()
    noon = _yesterday_noon()
    day = venue_day(noon)
    seats = ids["seats"]
    # A: paid on the sandbox's checkout, then refunded through the provider: both sides agree.
    code_a, ref_a = await _online_order(ids, seats[0:1])
    await sandbox_pay(ref_a, now=noon)
    refund = await request_refund(ADMIN_ACTOR, code_a, channel="web_shop", now=noon)
    # The provider's side of the refund (its HTTP API is tests/aftersale/test_provider_refund.py), dated noon.
    await sandbox.accept_refund(
        *provider("sandbox").refund_request(refund.number, ref_a, code_a, refund.refund_fen), now=noon
    )
    assert await record_provider_outcome("sandbox", await sandbox.settle(refund.number, now=noon), now=noon) == "done"
    # B: our books took a payment notice the provider's books do not have -> missing on the statement.
    code_b, ref_b = await _online_order(ids, seats[1:2])
    body, signature = provider("sandbox").callback_body(ref_b, code_b, 50000)
    await handle_payment_callback("sandbox", body, signature, now=noon)
    # C: the provider took money whose notice never reached us -> missing in our books.
    await recon.provider_books("payment", "SBXLOSTNOTICE0001", "", 20000, noon)
    # D: the provider's refund line for A says 1 yuan less than ours -> amounts differ.
    await recon.provider_books("refund", ref_a, code_a, 100, noon + dt.timedelta(minutes=5))

    with pytest.raises(Conflict):  # not matched yet
        await recon.close_day(AUDITOR, day)
    done = await recon.match_day(AUDITOR, day, base_url=live_server)
    assert done["lines"] == 4
    queue = {(e["source"], e["kind"], e["reference"]) for e in await ReconException.select()}
    assert ("provider", "missing_theirs", ref_b) in queue
    assert ("provider", "missing_ours", "SBXLOSTNOTICE0001") in queue
    assert ("provider", "amount", ref_a) in queue
    assert len(queue) == 3, queue
    again = await recon.match_day(AUDITOR, day, base_url=live_server)  # a re-match adds nothing twice
    assert again["new"] == 0 and await ReconException.count() == 3

    with pytest.raises(Conflict):  # the queue is not empty
        await recon.close_day(AUDITOR, day)
    first, *rest = await ReconException.select().order_by(ReconException.id)
    with pytest.raises(InvalidInput):
        await recon.resolve(AUDITOR, first["id"], "  ")
    for e in [first, *rest]:
        await recon.resolve(AUDITOR, e["id"], "与支付机构核实后已处理")
    await recon.close_day(AUDITOR, day)

    # Closed: nothing in it changes.
    with pytest.raises(Conflict):
        await recon.match_day(AUDITOR, day, base_url=live_server)
    with pytest.raises(Conflict):
        await recon.resolve(AUDITOR, first["id"], "again")
    entries, payments = await LedgerEntry.count(), await Payment.count()
    with pytest.raises(Conflict):  # a late entry dated in the closed day is refused, the payment rolled back
        await window_sale(ids, SELLER, "card", reference="000731", now=noon)
    assert (await LedgerEntry.count(), await Payment.count()) == (entries, payments)
    await window_sale(ids, SELLER, "card", reference="000731")  # today is open
    assert await LedgerEntry.count() == entries + 2


async def test_the_statement_is_ready_only_after_midnight_and_only_for_the_merchant(live_server):  # noqa: F811
    today = venue_day(dt.datetime.now(dt.UTC))
    with pytest.raises(Conflict):
        await recon.match_day(AUDITOR, today, base_url=live_server)
    yesterday = today - dt.timedelta(days=1)
    async with httpx.AsyncClient(base_url=live_server) as client:
        forged = await client.get(
            f"/pay/sandbox/statements/{yesterday.isoformat()}.csv", headers={"X-Sandbox-Signature": "0" * 64}
        )
        assert forged.status_code == 404
        signed = await client.get(
            f"/pay/sandbox/statements/{yesterday.isoformat()}.csv",
            headers={"X-Sandbox-Signature": recon.statement_signature(yesterday)},
        )
        assert signed.status_code == 200 and signed.headers["content-type"].startswith("text/csv")
        assert signed.text.splitlines()[1] == "transaction_time,type,reference,order_code,amount"


def test_a_malformed_statement_is_refused():
    with pytest.raises(ValueError):
        recon.parse_statement("transaction_time,type,reference,order_code,amount\n2026-12-01 10:00:00,gift,X,Y,1.00\n")
    with pytest.raises(ValueError):
        recon.parse_statement("time,kind\n")
    [line] = recon.parse_statement(
        "# x\ntransaction_time,type,reference,order_code,amount\n2026-12-01 10:00:00,payment,SBX1,ABC,128.5\n"
    )
    assert line.amount_fen == 12850 and line.at == dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


async def test_the_auditors_page_matches_resolves_and_closes(live_server, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SANDBOX_PROVIDER_URL", live_server)
    await sales_catalog()
    noon = _yesterday_noon()
    day = venue_day(noon).isoformat()
    await recon.provider_books("payment", "SBXPAGETEST0001", "", 12800, noon)
    async with staff_client(Role.AUDITOR, "auditor1") as client:
        page = await client.get("/finance/reconcile")
        assert page.status_code == 200 and 'data-testid="match"' in page.text
        bad = await client.get("/finance/reconcile?day=2026-13-45")
        assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
        matched = await post_form(client, f"/finance/reconcile/{day}/match", headers=HX)
        assert matched.status_code == 200 and "SBXPAGETEST0001" in matched.text
        [exception] = await ReconException.select()
        refused = await post_form(client, f"/finance/reconcile/{day}/close", headers=HX)
        assert refused.status_code == 409 and 'data-testid="form-error"' in refused.text
        no_note = await post_form(
            client, f"/finance/reconcile/exceptions/{exception['id']}/resolve", {"day": day, "note": ""}, headers=HX
        )
        assert no_note.status_code == 422
        await post_form(
            client,
            f"/finance/reconcile/exceptions/{exception['id']}/resolve",
            {"day": day, "note": "测试款，已退回"},
            headers=HX,
        )
        closed = await post_form(client, f"/finance/reconcile/{day}/close", headers=HX)
        assert closed.status_code == 200 and 'data-status="closed"' in closed.text
        again = await post_form(client, f"/finance/reconcile/{day}/match", headers=HX)
        assert again.status_code == 409
