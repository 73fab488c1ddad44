"""Loose input and missing headers (issue 9, defects 7 and 8): a JSON body must be sent as JSON, names
never hold control characters (they reach e-mails, exports and logs), and every answer carries the page
security headers (CSP with frame-ancestors, X-Frame-Options, nosniff)."""

from __future__ import annotations

import json

import pytest

from db.core.errors import InvalidInput
from db.sales.ordering.buyer import Buyer, clean_buyer
from db.sales.tables import Order
from db.staff.accounts import create_staff
from tests.helpers import ADMIN_ACTOR
from tests.sales.support import AUTH, sales_catalog
from tests.shop.support import hold, shop_client


async def test_a_json_body_sent_as_text_or_form_is_415():
    ids = await sales_catalog()
    body = {
        "session_id": ids["ga_session"],
        "items": [{"price_class_id": ids["ga_class"], "quantity": 1}],
        "buyer": {"name": "王小明", "phone": "13800138000"},
    }
    async with shop_client() as client:
        for media_type in ("text/plain", "application/x-www-form-urlencoded"):
            refused = await client.post(
                "/api/v1/orders", content=json.dumps(body), headers={**AUTH, "content-type": media_type}
            )
            assert refused.status_code == 415, media_type
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert await Order.count() == 0
        accepted = await client.post("/api/v1/orders", json=body, headers=AUTH)
        assert accepted.status_code == 201


@pytest.mark.parametrize(
    "name", ["王小明\x00", "王\x1b[31m小明", "王小明\r\nBcc: x@example.cn", "王\u2028小明", "\x7f"]
)
async def test_names_with_control_characters_are_refused(name):
    with pytest.raises(InvalidInput) as refused:
        clean_buyer(Buyer(name, "13800138000", "a@example.cn"))
    assert refused.value.field == "buyer.name"
    with pytest.raises(InvalidInput):
        await create_staff(ADMIN_ACTOR, "newstaff", name, "seller", "Correct-Horse-9")


async def test_a_shop_order_with_a_control_character_in_the_name_is_a_form_error():
    ids = await sales_catalog()
    async with shop_client() as client:
        response = await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "1", "name": "王\r\n小明"})
    assert response.status_code == 422 and 'data-testid="form-error"' in response.text
    assert await Order.count() == 0


@pytest.mark.parametrize("path", ["/shop", "/login", "/static/app.css", "/healthz", "/api/v1/events"])
async def test_every_answer_has_the_security_headers(path):
    async with shop_client() as client:
        response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_schema_documents_problem_answers_and_the_item_rule():
    from web.app import create_app

    spec = create_app().openapi_schema.to_schema()
    order = spec["paths"]["/api/v1/orders"]["post"]["responses"]
    for code in ("400", "401", "404", "409", "415", "422"):
        assert "application/problem+json" in order[code]["content"], code
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert spec["components"]["schemas"]["ItemIn"]["oneOf"] == [
        {"required": ["price_class_id", "quantity"]},
        {"required": ["seat_id"]},
    ]
    redeem = spec["paths"]["/api/v1/checkin/redeem"]["post"]["responses"]
    assert {"401", "409", "422"} <= set(redeem)


async def test_a_method_not_allowed_names_the_allowed_ones():
    async with shop_client() as client:
        api = await client.request("TRACE", "/api/v1/orders", headers=AUTH)
        page = await client.request("TRACE", "/shop")
    assert api.status_code == 405 and "POST" in api.headers["allow"]
    assert page.status_code == 405 and "GET" in page.headers["allow"]
