"""Shared set-up for the paper stock, real-name, stock-take and promotion tests (issue 13): the after-sale staff
actors (seller id 1, supervisor id 2) and paid orders through the real operations, stock at windows."""

from __future__ import annotations

from db.core.actor import Actor
from db.inventory import paper
from tests.aftersale.support import SELLER, SUPERVISOR, paid_ga, staff

__all__ = ["SELLER", "SUPERVISOR", "paid_ga", "staff", "stock_at_windows"]


async def stock_at_windows(category: str = "通用票纸", windows: int = 2, per_window: int = 50) -> dict:
    """A store with serials 100001.. received, and `per_window` of them issued to each of `windows` windows."""
    store = await paper.add_location(SUPERVISOR, "一号库房", "store")
    ids = {"store": store, "windows": []}
    await paper.receive(SUPERVISOR, category, 100001, 100000 + windows * per_window + 100, store)
    for i in range(windows):
        window = await paper.add_location(SUPERVISOR, f"{i + 1}号窗口", "window")
        first = 100001 + i * per_window
        await paper.issue(SUPERVISOR, category, first, first + per_window - 1, store, window)
        ids["windows"].append(window)
    return ids


def other_actor(role: str) -> Actor:
    return Actor(None, f"test-{role}", role)
