"""Shared set-up for the shop tests: the sales test catalog and buying through the shop."""

from __future__ import annotations

import re

import httpx

from tests.helpers import BASE_URL, post_form
from tests.sales.support import sales_catalog

BUYER_FORM = {"name": "王小明", "phone": "13800138000", "email": "xiaoming@example.cn", "accept_rules": "1"}
ORDER_PATH = re.compile(r"^/shop/orders/([A-Z0-9]+)$")


def shop_client(app=None, address: str = "203.0.113.7") -> httpx.AsyncClient:
    """A customer's browser at a client address of its own (rate limits are per address)."""
    if app is None:
        from web.app import create_app

        app = create_app()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url=BASE_URL)


async def hold(client: httpx.AsyncClient, session_id: int, headers: dict | None = None, **fields) -> httpx.Response:
    """Submit the session page's form: the buyer details, rules accepted, and `fields` (seat_id, qty_N...)."""
    return await post_form(client, f"/shop/sessions/{session_id}/order", {**BUYER_FORM, **fields}, headers=headers)


def order_code(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:2000]
    match = ORDER_PATH.match(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def pay_through_checkout(client: httpx.AsyncClient, code: str) -> httpx.Response:
    """Pay now -> the sandbox checkout -> Pay; returns the order page the customer lands on."""
    started = await post_form(client, f"/shop/orders/{code}/pay")
    assert started.status_code == 303, started.text[:2000]
    checkout = started.headers["location"]
    assert checkout.startswith("/shop/checkout/SBX")
    paid = await post_form(client, checkout)
    assert paid.status_code == 303 and paid.headers["location"] == f"/shop/orders/{code}"
    return await client.get(f"/shop/orders/{code}")


__all__ = ["sales_catalog"]
