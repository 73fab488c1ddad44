"""The partner exchange API (issue 11, R5.4): exchange-quote and exchanges with Idempotency-Key, the difference
debited or credited to the partner, 409 problem bodies that say why, concurrent retries exchanging once, a
partner seeing only its own orders, and the OpenAPI documentation."""

from __future__ import annotations

import asyncio

from db.finance.tables import LedgerEntry
from db.sales.aftersale.tables import Exchange
from db.sales.channels.partners import create_partner_key
from db.sales.tables import Partner, Ticket
from tests.aftersale.support import paid_partner_seats, paid_seats, staff
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import AUTH, sales_catalog


async def test_quote_exchange_retry_and_refusals():
    ids = await sales_catalog()
    await staff()
    partner = (await Partner.select(Partner.id).first())["id"]
    vip = ids["vip_seats"]
    a_seats = [s for s in ids["seats"] if s not in vip]
    code = await paid_partner_seats(ids, vip[:2], partner)
    tickets = [t["id"] for t in await Ticket.select(Ticket.id).where(Ticket.order.code == code).order_by(Ticket.id)]
    session, a_class = ids["seated_session"], ids["a_class"]
    async with http_client() as client:
        url = f"/api/v1/orders/{code}/exchange-quote?session_id={session}&price_class_id={a_class}"
        quote = await client.get(f"{url}&seat_ids={a_seats[0]}&ticket_ids={tickets[0]}", headers=AUTH)
        assert quote.status_code == 200, quote.text
        assert {k: v for k, v in quote.json().items() if k != "policy_version"} == {
            "allowed": True,
            "reason": None,
            "fee_fen": 0,
            "value_fen": 50000,
            "new_price_fen": 20000,
            "difference_fen": -30000,
        }
        wrong = await client.get(f"{url}&seat_ids={a_seats[0]},{a_seats[1]}&ticket_ids={tickets[0]}", headers=AUTH)
        assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("application/problem+json")
        missing = await client.get(f"/api/v1/orders/{code}/exchange-quote", headers=AUTH)
        assert missing.status_code in (400, 422)

        body = {"session_id": session, "price_class_id": a_class, "seat_ids": [a_seats[0]], "ticket_ids": [tickets[0]]}
        no_key = await client.post(f"/api/v1/orders/{code}/exchanges", json=body, headers=AUTH)
        assert no_key.status_code == 400
        headers = {**AUTH, "Idempotency-Key": "ex-1"}
        made, again = await asyncio.gather(
            client.post(f"/api/v1/orders/{code}/exchanges", json=body, headers=headers),
            client.post(f"/api/v1/orders/{code}/exchanges", json=body, headers=headers),
        )
        assert made.status_code == again.status_code == 201, (made.text, again.text)
        out = made.json()
        assert again.json()["id"] == out["id"] and await Exchange.count() == 1  # exchanged once
        assert (out["status"], out["ticket_ids"], out["difference_fen"], out["order_code"]) == (
            "done",
            [tickets[0]],
            -30000,
            code,
        )
        [new] = out["new_tickets"]
        assert new["status"] == "issued" and new["seat"] and new["qr"]
        credit = await LedgerEntry.select().where(LedgerEntry.kind == "price_difference").first()
        assert (credit["amount_fen"], credit["method"], credit["partner"]) == (-30000, "partner", partner)
        shown = await client.get(f"/api/v1/orders/{out['new_order_code']}", headers=AUTH)
        assert shown.status_code == 200 and shown.json()["tickets"][0]["qr"] == new["qr"]

        # The old ticket again (another key): 409 with the reason; the taken seat: 409 that says so.
        refused = await client.post(
            f"/api/v1/orders/{code}/exchanges", json=body, headers={**AUTH, "Idempotency-Key": "ex-2"}
        )
        assert refused.status_code == 409 and refused.json()["reason"] == "already_refunded"
        taken = {**body, "ticket_ids": [tickets[1]]}
        busy = await client.post(
            f"/api/v1/orders/{code}/exchanges", json=taken, headers={**AUTH, "Idempotency-Key": "ex-3"}
        )
        assert busy.status_code == 409 and busy.json()["reason"] == "seat_taken" and busy.json()["detail"]
        unknown = await client.post(
            f"/api/v1/orders/{code}/exchanges", json={**body, "extra": 1}, headers={**AUTH, "Idempotency-Key": "ex-4"}
        )
        assert unknown.status_code == 400
        assert await Exchange.count() == 1


async def test_another_partners_or_a_box_office_order_is_not_found_and_the_schema_documents_it():
    ids = await sales_catalog()
    await staff()
    code = await paid_seats(ids, ids["vip_seats"][:1])  # sold at the window: no partner's
    other_key = await create_partner_key(ADMIN_ACTOR, "另一家平台")
    body = {"session_id": ids["seated_session"], "price_class_id": ids["vip_class"], "seat_ids": [ids["vip_seats"][1]]}
    async with http_client() as client:
        for headers in (AUTH, {"Authorization": f"Bearer {other_key}"}):
            response = await client.post(
                f"/api/v1/orders/{code}/exchanges", json=body, headers={**headers, "Idempotency-Key": "k"}
            )
            assert response.status_code == 404
        schema = (await client.get("/schema/openapi.json")).json()
    post = schema["paths"]["/api/v1/orders/{code}/exchanges"]["post"]
    assert {"201", "409", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "/api/v1/orders/{code}/exchange-quote" in schema["paths"]
