"""Paid orders with real buyer data, placed through the partner API."""

from __future__ import annotations

from tests.helpers import http_client
from tests.sales.support import AUTH

BUYERS = [
    ("王小明", "13800138000", "xiaoming@example.cn"),
    ("李华", "13912345678", "lihua@example.com"),
    ("张丽", "13700001111", ""),
]


async def paid_orders(session_id: int, price_class_id: int) -> list[str]:
    codes = []
    async with http_client() as client:
        for i, (name, phone, email) in enumerate(BUYERS):
            placed = await client.post(
                "/api/v1/orders",
                headers={**AUTH, "Idempotency-Key": f"privacy-{session_id}-{i}"},
                json={
                    "session_id": session_id,
                    "items": [{"price_class_id": price_class_id, "quantity": 1}],
                    "buyer": {"name": name, "phone": phone, "email": email},
                },
            )
            assert placed.status_code == 201, placed.text
            paid = await client.post(f"/api/v1/orders/{placed.json()['code']}/pay", headers=AUTH)
            assert paid.status_code == 200
            codes.append(placed.json()["code"])
    return codes
