"""Promotions for slow sellers (issue 13, R4.3): a discount rule prices its classes within its window and
channels, is recorded on the order line, keeps its limit under concurrency and leaves a scheduled price change
(R3.2) in force on the list price; a bundle sells two sessions at one price split over the two orders."""

from __future__ import annotations

import asyncio
import json

import pytest

from db.audit.tables import AuditEntry
from db.catalog import operations as catalog
from db.catalog.pricing import Discount, bundle_shares, discounted
from db.core.errors import Conflict, InvalidInput, PermissionDenied
from db.inventory import promotions
from db.inventory.promotions import BundleSpec, PromotionSpec
from db.inventory.tables import Bundle, Promotion
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.ordering.preview import QuoteTicket, quote
from db.sales.tables import Order, OrderItem
from tests.helpers import ADMIN_ACTOR, utc
from tests.inventory.paper_support import SUPERVISOR, other_actor, staff
from tests.sales.support import BUYER, sales_catalog


def test_the_pure_prices():
    assert discounted(5000, Discount("percent", 20)) == 4000
    assert discounted(999, Discount("percent", 15)) == 849  # 849.15 rounds half up to the fen
    assert discounted(5000, Discount("amount", 1200)) == 3800
    assert discounted(500, Discount("amount", 1200)) == 0
    assert bundle_shares(10000, (8000, 4000)) == (6667, 3333)
    assert sum(bundle_shares(9999, (3, 3, 3))) == 9999


async def _promotion(ids, **changes) -> int:
    spec = dict(
        name="周末特惠",
        session_id=ids["ga_session"],
        kind="percent",
        value=20,
        valid_from=utc(hours=-1),
        valid_until=utc(days=1),
        limit_tickets=10,
        channels=("box_office", "web_shop"),
    )
    return await promotions.create_promotion(SUPERVISOR, PromotionSpec(**(spec | changes)))


async def _order(ids, quantity=1, channel="box_office", promotion_id=None):
    return await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel=channel,
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=quantity)],
        promotion_id=promotion_id,
    )


async def test_a_promotion_prices_the_order_line_and_is_recorded_and_audited():
    ids = await sales_catalog()
    await staff()
    promo = await _promotion(ids)
    (offer,) = await promotions.offers(ids["ga_session"], "box_office")
    preview = await quote(ids["ga_session"], [QuoteTicket(ids["ga_class"])], offer)
    assert preview["total_fen"] == 4000
    order = await _order(ids, 2, promotion_id=promo)
    assert order.total_fen == 8000
    line = await OrderItem.select().where(OrderItem.order.code == order.code).first()
    breakdown = json.loads(line["breakdown"]) if isinstance(line["breakdown"], str) else line["breakdown"]
    assert breakdown == {"list_fen": 5000, "promotion": promo, "promotion_off_fen": 1000}
    assert (await Promotion.select(Promotion.used).first())["used"] == 2
    assert await AuditEntry.exists().where(AuditEntry.action == "promotion.create")


async def test_outside_its_window_or_channel_the_promotion_does_not_apply():
    ids = await sales_catalog()
    await staff()
    later = await _promotion(ids, valid_from=utc(days=1), valid_until=utc(days=2))
    with pytest.raises(Conflict, match="does not apply"):
        await _order(ids, promotion_id=later)
    shop_only = await _promotion(ids, channels=("web_shop",))
    with pytest.raises(Conflict, match="does not apply"):
        await _order(ids, channel="partner", promotion_id=shop_only)
    assert await Order.count() == 0
    with pytest.raises(InvalidInput):
        await _promotion(ids, value=95)
    with pytest.raises(PermissionDenied):
        await promotions.create_promotion(
            other_actor("seller"), PromotionSpec("x", ids["ga_session"], "percent", 10, utc(), utc(days=1), 5)
        )


async def test_a_scheduled_price_change_still_moves_the_list_price():
    ids = await sales_catalog()
    await staff()
    promo = await _promotion(ids)
    # announced two days ago, in force since half an hour ago
    await catalog.schedule_price_change(
        ADMIN_ACTOR, ids["ga_class"], 6000, utc(hours=-0.5), "春节调价，提前公示", now=utc(days=-2)
    )
    order = await _order(ids, 1, promotion_id=promo)
    assert order.total_fen == 4800  # 20% off the new list price of 60.00


async def test_the_limit_holds_when_sales_race():
    ids = await sales_catalog()
    await staff()
    promo = await _promotion(ids, limit_tickets=5)
    results = await asyncio.gather(*(_order(ids, 2, promotion_id=promo) for _ in range(6)), return_exceptions=True)
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 2, results  # 2 + 2 tickets; a third order of 2 would exceed 5
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    assert (await Promotion.select(Promotion.used).first())["used"] == 4
    assert await Order.count() == 2


async def test_a_bundle_sells_two_sessions_at_one_price_within_its_limit():
    ids = await sales_catalog()
    await staff()
    bundle = await promotions.create_bundle(
        SUPERVISOR,
        BundleSpec("演出+景区联票", ids["a_class"], ids["ga_class"], 20000, utc(hours=-1), utc(days=1), 2),
    )
    sale = await promotions.sell_bundle(SUPERVISOR, bundle, 1, channel="box_office", buyer=BUYER)
    assert sale.first.total_fen + sale.second.total_fen == 20000
    assert (sale.first.total_fen, sale.second.total_fen) == bundle_shares(20000, (20000, 5000))
    items = await OrderItem.select(OrderItem.breakdown).where(
        OrderItem.order.code.is_in([sale.first.code, sale.second.code])
    )
    assert all(
        "bundle" in (json.loads(i["breakdown"]) if isinstance(i["breakdown"], str) else i["breakdown"]) for i in items
    )
    with pytest.raises(Conflict, match="fewer than"):
        await promotions.sell_bundle(SUPERVISOR, bundle, 2, channel="box_office", buyer=BUYER)
    assert (await Bundle.select(Bundle.used).first())["used"] == 1
    assert await Order.count() == 2  # the refused sale wrote neither order
