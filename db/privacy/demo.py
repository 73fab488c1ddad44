"""Demo data for the customer data pages: three paid box-office orders of a general-admission session,
reveals with their purposes, and data-use requests (one waiting, one approved and downloaded)."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import PriceClass
from db.core.actor import Actor
from db.privacy import data_use
from db.privacy.reveals import reveal
from db.privacy.tables import Reveal
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.staff.tables import StaffUser

BUYERS = [
    Buyer("陈晓东", "13812345678", "chenxd@example.cn"),
    Buyer("刘思琪", "13987654321", "liusiqi@example.com"),
    Buyer("赵磊", "13700112233", ""),
]


async def _staff(username: str) -> Actor | None:
    row = (
        await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.role)
        .where(StaffUser.username == username)
        .first()
    )
    return Actor(row["id"], row["username"], row["role"]) if row else None


async def load(actor: Actor) -> None:
    if await Reveal.count():
        return
    seller, auditor, supervisor = await _staff("lina"), await _staff("wangfang"), await _staff("zhangwei")
    if seller is None or auditor is None or supervisor is None:
        return
    ga = (
        await PriceClass.select(PriceClass.id, PriceClass.session)
        .where(
            (PriceClass.available >= len(BUYERS))
            & PriceClass.session.seated.eq(False)
            & (PriceClass.session.status == "on_sale")
            & (PriceClass.session.starts_at > dt.datetime.now(dt.UTC))
        )
        .order_by(PriceClass.id)
        .first()
    )
    if ga is None:
        return
    codes = []
    for buyer in BUYERS:
        order = await create_order(
            seller,
            session_id=ga["session"],
            channel="box_office",
            buyer=buyer,
            items=[ItemRequest(price_class_id=ga["id"], quantity=1)],
        )
        await confirm_window_payment(seller, order.code, "mobile", reference="88020461")
        codes.append(order.code)
    await reveal(seller, codes[0], "phone", "客户来电要求改签，回拨确认")
    await reveal(auditor, codes[1], "email", "核对退款到账通知邮箱")
    await data_use.request_use(seller, "session_buyers", ga["session"], "演出时间调整，逐一电话通知购票人")
    approved = await data_use.request_use(seller, "mailing_list", ga["session"], "发送入场须知邮件")
    await data_use.decide(supervisor, approved, True, days=7, note="仅限本次入场须知")
    await data_use.download(seller, approved)
