"""Every whole number a request carries is parsed once, bounded, and refused with a 4xx before any work
(issue 9, defects 1 and 5): superscript digits, 30-digit quantities, ids of 2^63 and above in paths, query
strings, forms and JSON bodies, and JSON nested thousands deep. None of them may give a 500."""

from __future__ import annotations

import pytest

from db.sales.tables import Order
from tests.helpers import post_form
from tests.sales.support import AUTH, sales_catalog
from tests.sales.ui_support import staff_client
from tests.shop.support import hold, shop_client

HUGE = "999999999999999999999999999999"
OVERFLOW = "99999999999999999999"


def test_the_parser_refuses_superscripts_huge_values_and_out_of_range():
    from db.core.errors import InvalidInput
    from web.forms import MAX_ID, whole_number

    assert whole_number(" 12 ", field="n", maximum=20) == 12
    assert whole_number(7, field="n", maximum=20) == 7
    for bad in ("²", "١٢", "-1", "1.5", "1e3", "", HUGE, "0x10", True):
        with pytest.raises(InvalidInput):
            whole_number(bad, field="n", maximum=MAX_ID)
    with pytest.raises(InvalidInput) as refused:
        whole_number("21", field="n", maximum=20)
    assert refused.value.field == "n" and refused.value.params == {"min": 0, "max": 20}


@pytest.mark.parametrize("fields", [{"qty_{ga}": HUGE}, {"qty_{ga}": "20000000"}, {"qty_{ga}": "²"}, {"seat_id": "²"}])
async def test_shop_order_with_a_bad_count_is_a_form_error(fields):
    ids = await sales_catalog()
    fields = {k.format(ga=ids["ga_class"]): v for k, v in fields.items()}
    async with shop_client() as client:
        response = await hold(client, ids["ga_session"], **fields)
    assert response.status_code == 422, response.text[:500]
    assert 'data-testid="form-error"' in response.text
    assert await Order.count() == 0


async def test_shop_quantities_that_add_up_to_too_many_are_refused_before_any_work():
    ids = await sales_catalog()
    async with shop_client() as client:
        response = await hold(client, ids["ga_session"], **{f"qty_{ids['ga_class']}": "200"})
    assert response.status_code == 422 and "网上每单最多 10 张" in response.text
    assert await Order.count() == 0


async def test_box_office_bad_counts_and_seat_ids_are_4xx():
    ids = await sales_catalog()
    async with staff_client("seller", "seller_bounds") as client:
        for query in ("?seat_id=²", f"?seat_id={OVERFLOW}"):
            page = await client.get(f"/sales/sessions/{ids['seated_session']}{query}")
            assert page.status_code == 200, query  # the plan simply marks nothing
        plan = await client.get(f"/sales/sessions/{ids['seated_session']}/plan?seat_id=²")
        assert plan.status_code == 200
        best = await client.get(
            f"/sales/sessions/{ids['seated_session']}/plan", params={"best_class": ids["vip_class"], "best_n": "²"}
        )
        assert best.status_code == 422
        best = await client.get(
            f"/sales/sessions/{ids['seated_session']}/plan", params={"best_class": OVERFLOW, "best_n": "2"}
        )
        assert best.status_code == 400
        for fields in ({f"qty_{ids['ga_class']}": "²"}, {f"qty_{ids['ga_class']}": HUGE}, {"seat_id": "²"}):
            details = await post_form(client, f"/sales/sessions/{ids['ga_session']}/order/details", fields)
            assert details.status_code == 422, fields
            placed = await post_form(client, f"/sales/sessions/{ids['ga_session']}/orders", fields)
            assert placed.status_code == 422, fields
    assert await Order.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        f"/shop/sessions/{OVERFLOW}",
        f"/shop/sessions/{2**63}",
        f"/shop/sessions/{2**31}",
        f"/sales/sessions/{OVERFLOW}",
        f"/sales/sessions/{2**31}/plan",
        f"/catalog/sessions/{OVERFLOW}",
    ],
)
async def test_ids_out_of_range_in_a_path_are_not_found(path):
    await sales_catalog()
    async with staff_client("supervisor", "sup_bounds") as client:
        response = await client.get(path)
    assert response.status_code == 404, (path, response.status_code)


async def test_partner_api_refuses_ids_and_quantities_out_of_range():
    ids = await sales_catalog()
    async with shop_client() as client:
        availability = await client.get(f"/api/v1/sessions/{OVERFLOW}/availability", headers=AUTH)
        assert availability.status_code == 404
        assert availability.headers["content-type"].startswith("application/problem+json")
        buyer = {"name": "王小明", "phone": "13800138000"}
        bodies = [
            {"session_id": 2**63, "items": [{"price_class_id": ids["ga_class"], "quantity": 1}], "buyer": buyer},
            {"session_id": ids["ga_session"], "items": [{"price_class_id": 2**63, "quantity": 1}], "buyer": buyer},
            {"session_id": ids["ga_session"], "items": [{"price_class_id": ids["ga_class"], "quantity": 10**20}]},
            {"session_id": ids["ga_session"], "items": [{"price_class_id": ids["ga_class"], "quantity": 201}]},
            {"session_id": ids["ga_session"], "items": [{"seat_id": 1}] * 201, "buyer": buyer},
        ]
        for body in bodies:
            response = await client.post("/api/v1/orders", json=body, headers=AUTH)
            assert response.status_code == 400, (body, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")
        deep = '{"session_id": 1, "items": ' + "[" * 5000 + "]" * 5000 + "}"
        response = await client.post(
            "/api/v1/orders", content=deep, headers={**AUTH, "content-type": "application/json"}
        )
        assert response.status_code == 400
    assert await Order.count() == 0


async def test_checkin_api_refuses_deep_json_and_ids_out_of_range():
    from tests.gate.test_checkin_api import bearer, devices
    from tests.gate.tickets import open_venue

    token = bearer((await devices(await open_venue()))["G-1"])
    async with shop_client() as client:
        deep = '{"code": "x", "extra": ' + "[" * 5000 + "]" * 5000 + "}"
        response = await client.post(
            "/api/v1/checkin/redeem", content=deep, headers={**token, "content-type": "application/json"}
        )
        assert response.status_code == 400
        response = await client.post("/api/v1/checkin/redeem", json={"code": "x", "session_id": 2**63}, headers=token)
        assert response.status_code == 422
        journal = {"entries": [{}] * 5001}
        response = await client.post("/api/v1/checkin/journal", json=journal, headers=token)
        assert response.status_code == 422 and "5000" in response.json()["detail"]


async def test_a_refund_policy_for_a_superscript_event_id_is_a_form_error():
    await sales_catalog()
    async with staff_client("supervisor", "sup_policy") as client:
        response = await post_form(client, "/aftersale/policy", {"scope": "event:²"})
    assert response.status_code == 422, response.status_code
