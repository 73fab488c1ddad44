"""The app's periodic task releases expired holds even when nobody looks at the session (R3.4 step 2)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from db.sales.ordering.orders import ItemRequest, create_order, release_expired_holds
from db.sales.queries import order_status
from tests.helpers import ADMIN_ACTOR
from tests.sales.support import BUYER, sales_catalog
from web import jobs


async def test_the_periodic_task_expires_holds_and_stops_cleanly(monkeypatch):
    ids = await sales_catalog()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    stale = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=3)],
        now=past,
    )
    live = await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=2)],
    )
    fast = [dataclasses.replace(job, interval=0.05) for job in jobs.JOBS if job.run is release_expired_holds]
    monkeypatch.setattr(jobs, "JOBS", fast)
    await jobs.start()
    try:
        for _ in range(100):
            if (await order_status(stale.code))["status"] == "expired":
                break
            await asyncio.sleep(0.05)
    finally:
        await jobs.stop()
    assert (await order_status(stale.code))["status"] == "expired"
    assert (await order_status(live.code))["status"] == "held"
