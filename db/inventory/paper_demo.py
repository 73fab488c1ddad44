"""Demo data for the real-name, paper stock, stock-take and promotion pages (issue 13 part B): the football
match and the city wall sold real-name (two bound holders), paper stock in the ticket center's store and two
windows (one order printed on it), a signed stock-take with an explained variance, a weekday discount on the
drama and a bundle of the opera with the city wall."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import PriceClass
from db.core.actor import Actor
from db.core.clock import utcnow
from db.inventory import paper, promotions, realname, stocktake
from db.inventory.promotions import BundleSpec, PromotionSpec
from db.inventory.realname import Holder, check_digit
from db.inventory.tables import PaperLocation
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.status import PAID
from db.sales.tables import Order
from db.staff.tables import StaffUser

CATEGORY = "通用票纸"


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


async def _staff(username: str) -> Actor | None:
    row = await StaffUser.select(StaffUser.id, StaffUser.role).where(StaffUser.username == username).first()
    return Actor(row["id"], username, row["role"]) if row else None


async def _class(event_name: str) -> dict | None:
    """The first price class of the event's next session on sale (general admission: with tickets left)."""
    query = PriceClass.select(PriceClass.id, PriceClass.session, PriceClass.price_fen).where(
        (PriceClass.session.event.name == event_name)
        & (PriceClass.session.status == "on_sale")
        & (PriceClass.session.starts_at > utcnow())
        & ((PriceClass.seat_class != "") | (PriceClass.available > 4))
    )
    return await query.order_by(PriceClass.session.starts_at).order_by(PriceClass.id).first()


async def load(actor: Actor) -> None:
    if await PaperLocation.count():
        return
    supervisor, seller = await _staff("zhangwei"), await _staff("lina")
    if supervisor is None or seller is None:
        return
    now = utcnow()
    # Real-name: the match; two tickets with their holders.
    match = await PriceClass.select(PriceClass.session).where(PriceClass.session.event.name.like("中超联赛%")).first()
    walls = await _class("明城墙景区门票")
    if match:
        await realname.mark(supervisor, match["session"], approved_capacity=500, reserved=40)
    if walls:
        await realname.mark(supervisor, walls["session"], approved_capacity=1000, reserved=200)  # 80%: below 85%
        order = await create_order(
            seller,
            session_id=walls["session"],
            channel="box_office",
            buyer=Buyer("周建国", "13611112222", "zhoujg@example.cn"),
            items=[ItemRequest(price_class_id=walls["id"], quantity=2)],
            holders=[Holder("周建国", _id("32010219800512301")), Holder("周小雨", _id("32010220100823402"))],
        )
        await confirm_window_payment(seller, order.code, "mobile", reference="4200002381202612010001")
    # Paper stock: the store, two windows, one order printed.
    store = await paper.add_location(supervisor, "票务中心一号库房", "store")
    first_window = await paper.add_location(supervisor, "1号窗口", "window")
    second_window = await paper.add_location(supervisor, "2号窗口", "window")
    await paper.receive(supervisor, CATEGORY, 200001, 200500, store, "印刷厂送货单 YS-2026-118")
    await paper.receive(supervisor, "贵宾票纸", 9001, 9100, store)
    await paper.issue(supervisor, CATEGORY, 200001, 200100, store, first_window)
    await paper.issue(supervisor, CATEGORY, 200101, 200150, store, second_window)
    paid = await Order.select(Order.code).where(Order.status == PAID).order_by(Order.id).first()
    if paid:
        await paper.print_order(seller, paid["code"], first_window, CATEGORY)
    await paper.mark(seller, "spoil", CATEGORY, 200099, 200099, first_window, "打印机卡纸")
    await paper.return_range(supervisor, CATEGORY, 200141, 200150, second_window, "窗口撤并，余票退库")
    # A signed monthly count of the store: one pack of ten was missing and found to be at the second window.
    count = await stocktake.start(supervisor, store, "monthly")
    await stocktake.count_range(supervisor, count, CATEGORY, 200141, 200490)
    await stocktake.count_range(supervisor, count, "贵宾票纸", 9001, 9100)
    await stocktake.close(supervisor, count)
    for variance in (await stocktake.report(count)).variances:
        await stocktake.explain(supervisor, variance["id"], "200491-200500 一包借给 2 号窗口试打印，已补登记")
    await stocktake.sign(supervisor, count, "12 月月度盘点")
    # Promotions: the drama on weekdays; the opera with the city wall.
    drama = await _class("话剧《雷雨》")
    if drama:
        await promotions.create_promotion(
            supervisor,
            PromotionSpec(
                "工作日特惠 8 折",
                drama["session"],
                "percent",
                20,
                now - dt.timedelta(hours=1),
                now + dt.timedelta(days=14),
                100,
                ("box_office", "web_shop", "outlet"),
            ),
        )
    opera = await _class("歌剧《茶花女》")
    if opera and walls:
        await promotions.create_bundle(
            supervisor,
            BundleSpec(
                "歌剧+城墙联票",
                opera["id"],
                walls["id"],
                opera["price_fen"] + walls["price_fen"] - 3000,
                now - dt.timedelta(hours=1),
                now + dt.timedelta(days=30),
                50,
            ),
        )
