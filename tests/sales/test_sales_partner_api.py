"""The partner API (R3.3): shapes other platforms build against, API keys, problem bodies, idempotency,
a partner seeing only its own orders, and the OpenAPI documentation."""

from __future__ import annotations

from db.catalog.tables import Seat
from db.sales.channels.partners import create_partner_key
from db.sales.tables import Order
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import number_for
from tests.helpers import ADMIN_ACTOR, http_client
from tests.sales.support import AUTH, sales_catalog

BUYER = {"name": "李雷", "phone": "13900139000", "email": "lilei@example.cn"}


async def test_events_list_sessions_with_their_gates():
    ids = await sales_catalog()
    async with http_client() as client:
        response = await client.get("/api/v1/events", headers=AUTH)
    assert response.status_code == 200
    events = {e["name"]: e for e in response.json()}
    show = events["测试演出"]
    assert show["kind"] == "performance"
    session = show["sessions"][0]
    assert session["id"] == ids["seated_session"] and session["seated"] is True
    assert {g["code"] for g in session["gates"]} == {"T-N", "T-S"}
    assert set(session) >= {"id", "starts_at", "seated", "gates"}


async def test_availability_counts_and_seat_statuses():
    ids = await sales_catalog()
    await Seat.update({Seat.obstructed: True}).where(Seat.id == ids["vip_seats"][1])  # behind a pillar
    async with http_client() as client:
        ga = (await client.get(f"/api/v1/sessions/{ids['ga_session']}/availability", headers=AUTH)).json()
        assert ga == {
            "session_id": ids["ga_session"],
            "seats": [],
            "price_classes": [
                {"id": ids["ga_class"], "name": "成人票", "price_fen": 5000, "available": 50, "seated": False}
            ],
        }
        placed = await client.post(
            "/api/v1/orders",
            headers=AUTH,
            json={"session_id": ids["seated_session"], "items": [{"seat_id": ids["vip_seats"][0]}], "buyer": BUYER},
        )
        assert placed.status_code == 201
        seated = (await client.get(f"/api/v1/sessions/{ids['seated_session']}/availability", headers=AUTH)).json()
    statuses = {s["id"]: s["status"] for s in seated["seats"]}
    assert statuses[ids["vip_seats"][0]] == "held"
    assert list(statuses.values()).count("free") == 9
    assert [s["id"] for s in seated["seats"] if s["obstructed"]] == [ids["vip_seats"][1]]  # additive field
    vip = next(c for c in seated["price_classes"] if c["id"] == ids["vip_class"])
    assert vip["available"] == 4 and vip["price_fen"] == 50000


async def test_seat_texts_keep_the_chinese_format_platforms_parse_whatever_the_language():
    ids = await sales_catalog()
    first, second = ids["vip_seats"][:2]
    async with http_client() as client:
        client.cookies.set("lang", "en")
        seats = (await client.get(f"/api/v1/sessions/{ids['seated_session']}/availability", headers=AUTH)).json()[
            "seats"
        ]
        placed = await client.post(
            "/api/v1/orders",
            headers=AUTH,
            json={
                "session_id": ids["seated_session"],
                "items": [{"seat_id": first}, {"seat_id": second}],
                "buyer": BUYER,
            },
        )
        paid = (await client.post(f"/api/v1/orders/{placed.json()['code']}/pay", headers=AUTH)).json()
    labels = {s["id"]: s["label"] for s in seats}
    assert (labels[first], labels[second]) == ("池座 1排1座", "池座 1排2座")
    assert sorted(t["seat"] for t in paid["tickets"]) == ["池座 1排1座", "池座 1排2座"]


async def test_order_pay_and_show_with_verifiable_qr_codes():
    ids = await sales_catalog()
    async with http_client() as client:
        placed = await client.post(
            "/api/v1/orders",
            headers={**AUTH, "Idempotency-Key": "order-1"},
            json={
                "session_id": ids["ga_session"],
                "items": [{"price_class_id": ids["ga_class"], "quantity": 3}],
                "buyer": BUYER,
            },
        )
        assert placed.status_code == 201, placed.text
        body = placed.json()
        assert body["status"] == "held" and body["total_fen"] == 15000 and body["expires_at"]
        paid = await client.post(f"/api/v1/orders/{body['code']}/pay", headers=AUTH)
        assert paid.status_code == 200
        assert paid.json()["status"] == "paid" and len(paid.json()["tickets"]) == 3
        again = await client.post(f"/api/v1/orders/{body['code']}/pay", headers=AUTH)
        assert again.json() == paid.json()  # paying twice issues nothing more
        shown = (await client.get(f"/api/v1/orders/{body['code']}", headers=AUTH)).json()
    assert shown["code"] == body["code"] and shown["status"] == "paid" and shown["total_fen"] == 15000
    for ticket in shown["tickets"]:
        claim = keyring().verify(ticket["qr"])
        assert claim is not None and claim.ticket_id == ticket["id"] and claim.session_id == ids["ga_session"]
        assert ticket["short_code"] == number_for(ticket["id"])  # the contract: a string of 11 digits (issue 15)
        assert isinstance(ticket["short_code"], str) and len(ticket["short_code"]) == 11
        assert ticket["seat"] is None and ticket["status"] == "issued"


async def test_same_idempotency_key_returns_the_same_order_and_holds_nothing_more():
    ids = await sales_catalog()
    request = {
        "session_id": ids["ga_session"],
        "items": [{"price_class_id": ids["ga_class"], "quantity": 2}],
        "buyer": BUYER,
    }
    async with http_client() as client:
        first = await client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "same"}, json=request)
        second = await client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "same"}, json=request)
        other = await client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "other"}, json=request)
        left = (await client.get(f"/api/v1/sessions/{ids['ga_session']}/availability", headers=AUTH)).json()
    assert first.status_code == 201 and second.status_code == 201
    assert second.json() == first.json()
    assert other.json()["code"] != first.json()["code"]
    assert left["price_classes"][0]["available"] == 46
    async with http_client() as client:
        rest = {**request, "items": [{"price_class_id": ids["ga_class"], "quantity": 46}]}
        last = await client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "last"}, json=rest)
        retry = await client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "last"}, json=rest)
    assert (
        last.status_code == retry.status_code == 201 and retry.json() == last.json()
    )  # sold out, yet the retry finds its order


async def test_keys_are_required_and_partners_see_only_their_own_orders():
    ids = await sales_catalog()
    other_key = await create_partner_key(ADMIN_ACTOR, "另一家平台")
    async with http_client() as client:
        for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic abc"}):
            response = await client.get("/api/v1/events", headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == 401
        placed = await client.post(
            "/api/v1/orders",
            headers=AUTH,
            json={
                "session_id": ids["ga_session"],
                "items": [{"price_class_id": ids["ga_class"], "quantity": 1}],
                "buyer": BUYER,
            },
        )
        code = placed.json()["code"]
        stranger = {"Authorization": f"Bearer {other_key}"}
        assert (await client.get(f"/api/v1/orders/{code}", headers=stranger)).status_code == 404
        assert (await client.post(f"/api/v1/orders/{code}/pay", headers=stranger)).status_code == 404
        assert (await client.get(f"/api/v1/orders/{code}", headers=AUTH)).status_code == 200
    order = await Order.select(Order.status, Order.channel, Order.outlet).where(Order.code == code).first()
    assert order == {"status": "held", "channel": "partner", "outlet": "票多多开放平台"}


async def test_bad_input_unknown_objects_and_sold_out_are_problem_bodies():
    ids = await sales_catalog()
    async with http_client() as client:

        async def order(items, session=ids["ga_session"], buyer=BUYER):
            return await client.post(
                "/api/v1/orders", headers=AUTH, json={"session_id": session, "items": items, "buyer": buyer}
            )

        malformed = await client.post("/api/v1/orders", headers=AUTH, json={"session_id": "one"})
        assert malformed.status_code == 400 and malformed.json()["errors"]
        both = await order([{"price_class_id": ids["ga_class"], "quantity": 1, "seat_id": ids["seats"][0]}])
        assert both.status_code == 422 and both.json()["field"] == "items"
        no_phone = await order(
            [{"price_class_id": ids["ga_class"], "quantity": 1}], buyer={"name": "x", "phone": "abc"}
        )
        assert no_phone.status_code == 422 and no_phone.json()["field"] == "buyer.phone"
        assert (await order([{"price_class_id": ids["ga_class"], "quantity": 1}], session=999999)).status_code == 404
        assert (await client.get("/api/v1/sessions/999999/availability", headers=AUTH)).status_code == 404
        assert (await client.get("/api/v1/orders/NOSUCHCODE", headers=AUTH)).status_code == 404
        too_many = await order([{"price_class_id": ids["ga_class"], "quantity": 51}])
        assert too_many.status_code == 409 and too_many.json()["title"] == "Conflict"
        assert (await order([{"price_class_id": ids["ga_class"], "quantity": 50}])).status_code == 201
        sold_out = await order([{"price_class_id": ids["ga_class"], "quantity": 1}])
        assert sold_out.status_code == 409
        taken = await order([{"seat_id": ids["seats"][0]}], session=ids["seated_session"])
        assert taken.status_code == 201
        again = await order([{"seat_id": ids["seats"][0]}], session=ids["seated_session"])
        assert again.status_code == 409
    assert await Order.count() == 2  # nothing half-written by the refused requests


async def test_the_api_is_documented_in_openapi():
    async with http_client() as client:
        schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/sessions/{session_id}/availability",
        "/api/v1/orders",
        "/api/v1/orders/{code}/pay",
        "/api/v1/orders/{code}",
    ):
        assert path in paths, path
    post = paths["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert "OrderIn" in str(post["requestBody"]) and "OrderCreated" in str(post["responses"]["201"])
