"""The partner refund API contract (issue 11): refund-quote and refunds with Idempotency-Key, 201 and 409
problem bodies, a partner seeing only its own orders, and concurrent retries refunding once."""

from __future__ import annotations

import asyncio

from db.finance.tables import LedgerEntry
from db.sales.aftersale.tables import Refund
from db.sales.channels.partners import create_partner_key
from db.sales.tables import Partner, Ticket
from tests.aftersale.support import paid_partner_seats, paid_seats, staff
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import AUTH, sales_catalog


async def _partner_order(ids, seats):
    partner = (await Partner.select(Partner.id).first())["id"]
    code = await paid_partner_seats(ids, seats, partner)
    tickets = [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)]
    return code, tickets


async def test_quote_then_refund_then_retry_then_refused():
    ids = await sales_catalog()
    await staff()
    code, tickets = await _partner_order(ids, ids["vip_seats"][:2])
    async with http_client() as client:
        whole = await client.get(f"/api/v1/orders/{code}/refund-quote", headers=AUTH)
        assert whole.status_code == 200
        version = whole.json()["policy_version"]
        assert whole.json() == {
            "allowed": True,
            "reason": None,
            "fee_fen": 5000,
            "refund_fen": 95000,
            "policy_version": version,
        }
        one = await client.get(f"/api/v1/orders/{code}/refund-quote?ticket_ids={tickets[0]}", headers=AUTH)
        assert (one.json()["fee_fen"], one.json()["refund_fen"]) == (2500, 47500)
        foreign = await client.get(f"/api/v1/orders/{code}/refund-quote?ticket_ids=1,{tickets[0]},999999", headers=AUTH)
        assert foreign.status_code == 200 and foreign.json()["allowed"] is False
        assert foreign.json()["reason"] == "foreign_ticket"
        bad = await client.get(f"/api/v1/orders/{code}/refund-quote?ticket_ids=1,x", headers=AUTH)
        assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")

        no_key = await client.post(f"/api/v1/orders/{code}/refunds", json={"ticket_ids": [tickets[0]]}, headers=AUTH)
        assert no_key.status_code == 400
        headers = {**AUTH, "Idempotency-Key": "rf-1"}
        made = await client.post(f"/api/v1/orders/{code}/refunds", json={"ticket_ids": [tickets[0]]}, headers=headers)
        assert made.status_code == 201, made.text
        body = made.json()
        assert set(body) == {"id", "status", "fee_fen", "refund_fen", "ticket_ids"}
        assert (body["status"], body["fee_fen"], body["refund_fen"], body["ticket_ids"]) == (
            "done",
            2500,
            47500,
            [tickets[0]],
        )
        retry = await client.post(f"/api/v1/orders/{code}/refunds", json={"ticket_ids": [tickets[0]]}, headers=headers)
        assert retry.status_code == 201 and retry.json() == body
        again = await client.post(
            f"/api/v1/orders/{code}/refunds",
            json={"ticket_ids": [tickets[0]]},
            headers={**AUTH, "Idempotency-Key": "rf-2"},
        )
        assert again.status_code == 409
        problem = again.json()
        assert problem["reason"] == "already_refunded" and "已退票" in problem["detail"]
        rest = await client.post(f"/api/v1/orders/{code}/refunds", headers={**AUTH, "Idempotency-Key": "rf-3"})
        assert rest.status_code == 201 and rest.json()["ticket_ids"] == [tickets[1]]
        after = await client.get(f"/api/v1/orders/{code}/refund-quote", headers=AUTH)
        assert after.json()["allowed"] is False and after.json()["reason"] == "already_refunded"
        order = await client.get(f"/api/v1/orders/{code}", headers=AUTH)
        assert order.json()["status"] == "refunded" and {t["status"] for t in order.json()["tickets"]} == {"revoked"}
    assert await Refund.count() == 2
    credits = await LedgerEntry.select(LedgerEntry.amount_fen, LedgerEntry.method).where(LedgerEntry.kind == "refund")
    assert sorted(c["amount_fen"] for c in credits) == [-47500, -47500] and {c["method"] for c in credits} == {
        "partner"
    }


async def test_other_partners_and_window_orders_are_not_found_and_bad_bodies_are_refused():
    ids = await sales_catalog()
    await staff()
    code, tickets = await _partner_order(ids, ids["vip_seats"][:1])
    window = await paid_seats(ids, ids["vip_seats"][1:2])
    other = {"Authorization": f"Bearer {await create_partner_key(ADMIN_ACTOR, '另一平台')}", "Idempotency-Key": "x"}
    async with http_client() as client:
        for url_code, headers in (
            (code, other),
            (window, {**AUTH, "Idempotency-Key": "x"}),
            ("NOPE", {**AUTH, "Idempotency-Key": "x"}),
        ):
            assert (await client.get(f"/api/v1/orders/{url_code}/refund-quote", headers=headers)).status_code == 404
            assert (await client.post(f"/api/v1/orders/{url_code}/refunds", headers=headers)).status_code == 404
        headers = {**AUTH, "Idempotency-Key": "bad"}
        for body in ({"ticket_ids": "1"}, {"ticket_ids": [-1]}, {"ticket_ids": []}, {"tickets": [1]}):
            response = await client.post(f"/api/v1/orders/{code}/refunds", json=body, headers=headers)
            assert response.status_code in (400, 409, 422), (body, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
        unauth = await client.post(f"/api/v1/orders/{code}/refunds", headers={"Idempotency-Key": "z"})
        assert unauth.status_code == 401
    assert (
        await Refund.count() == 0
        and (await Ticket.select(Ticket.status).where(Ticket.id == tickets[0]).first())["status"] == "issued"
    )


async def test_concurrent_retries_with_one_key_refund_once():
    ids = await sales_catalog()
    await staff()
    code, tickets = await _partner_order(ids, ids["vip_seats"][:2])
    headers = {**AUTH, "Idempotency-Key": "same"}
    async with http_client() as client:
        responses = await asyncio.gather(
            *(client.post(f"/api/v1/orders/{code}/refunds", headers=headers) for _ in range(8))
        )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Refund.count() == 1 and await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 1
