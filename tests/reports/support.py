"""Sales with refunds through the real operations, for the report tests: the small catalog, two window
orders (cash, card), a partner order, and a refund of one ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from db.sales.aftersale.refunds import request_refund
from db.sales.channels.partners import create_partner_key
from db.sales.tables import Partner, Ticket
from tests.aftersale.support import SELLER, paid_ga, paid_partner_seats, paid_seats, staff
from tests.helpers import ADMIN_ACTOR, http_client, make_staff, post_form, sign_in
from tests.sales.support import sales_catalog


async def sales_with_refund() -> dict:
    ids = await sales_catalog()
    await staff()
    ids["cash_order"] = await paid_seats(ids, ids["vip_seats"][:2], "cash")
    ids["card_order"] = await paid_ga(ids, 3)
    await create_partner_key(ADMIN_ACTOR, "猫眼测试", "report-partner-key")
    partner = (await Partner.select(Partner.id).where(Partner.name == "猫眼测试").first())["id"]
    ids["partner_order"] = await paid_partner_seats(ids, ids["seats"][5:7], partner)
    ticket = await Ticket.select(Ticket.id).where(Ticket.order.code == ids["cash_order"]).order_by(Ticket.id).first()
    ids["refund"] = await request_refund(SELLER, ids["cash_order"], [ticket["id"]], channel="box_office")
    return ids


@asynccontextmanager
async def signed_in(
    role: str, username: str | None = None, language: str = "zh_CN"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as a new staff member of `role`, reading pages in `language`."""
    username = await make_staff(role, username or f"report_{role}")
    async with http_client() as client:
        await sign_in(client, username)
        if language != "zh_CN":
            await post_form(client, "/lang", {"language": language, "next": "/"})
        yield client
