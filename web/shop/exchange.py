"""The customer exchanges tickets from their order page (R5.4; public, the lookup grant is the identity):
another session, class or seats of the same event, the quote first, then the new tickets (a new order the
browser may open) by e-mail. An exchange of equal or lower value is done online (a difference paid online
goes back through the provider); one that costs more is paid at a box office window. An exchange the buyer
chose from a session change's link (/shop/changes/TOKEN) is fee-free until its deadline."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.actor import Actor
from db.core.errors import DomainError
from db.sales.aftersale.exchanges import exchange, quote_exchange
from db.sales.aftersale.refunds import contract
from db.sessionchange import operations as session_changes
from web.aftersale.exchange import exchange_context, target_from
from web.auth import PUBLIC
from web.forms import Form, QueryId, failure, field_text
from web.i18n import format_fen, gettext
from web.shop.grants import client_key, grant
from web.shop.orders import _for_granted, _order_page
from web.templating import render


async def _page(request: Request, code: str, session_id: int | None, price_class_id: int | None, **extra) -> Template:
    context = {**await exchange_context(code, session_id, price_class_id), **extra}
    return render(request, "shop/exchange.html", refund_rules=(await contract(code)).rules, **context)


@get("/shop/orders/{code:str}/exchange", opt=PUBLIC)
async def shop_exchange_page(
    request: Request, code: FromPath[str], session_id: QueryId = None, price_class_id: QueryId = None
) -> Response:
    return await _for_granted(request, code, lambda granted: _page(request, granted, session_id, price_class_id))


@post("/shop/orders/{code:str}/exchange/quote", opt=PUBLIC)
async def shop_exchange_quote(request: Request, code: FromPath[str], data: Form) -> Response:
    async def preview(code: str) -> Template:
        try:
            tickets, target = target_from(data)
            waived = await session_changes.exchange_waived(code)
            quote = await quote_exchange(code, tickets, target, channel="web_shop", waived=waived)
        except DomainError as exc:
            return render(request, "aftersale/_exchange_quote.html", quote=None, **failure(exc))
        return render(request, "aftersale/_exchange_quote.html", quote=quote, error=None)

    return await _for_granted(request, code, preview)


@post("/shop/orders/{code:str}/exchange", opt=PUBLIC)
async def shop_exchange(request: Request, code: FromPath[str], data: Form) -> Response:
    """The customer confirms (the quote was shown); the new order opens with the new tickets."""

    async def confirm(code: str) -> Response:
        if field_text(data, "confirm") != "yes":
            tickets, target = target_from(data)
            return await _page(
                request,
                code,
                target.session_id,
                target.price_class_id,
                error=gettext("Tick the box to confirm the exchange."),
                error_field="confirm",
            )
        tickets, target = target_from(data)
        order = (await exchange_context(code, None, None))["order"]
        paid_online = any(p["method"] == "sandbox" and p["status"] == "succeeded" for p in order["payments"])
        done = await exchange(
            Actor.customer(client_key(request)),
            code,
            tickets,
            target,
            channel="web_shop",
            method="sandbox" if paid_online else "",
            charge_allowed=False,
            waived=await session_changes.exchange_waived(code),  # chosen from a session change's link: no fee
        )
        notice = gettext(
            "Exchange {number}: your new tickets are below and on their way by e-mail.", number=done.number
        )
        if done.difference_fen < 0:
            notice += " " + gettext("{amount} goes back the way you paid.", amount=format_fen(-done.difference_fen))
        page = await _order_page(request, done.new_order_code, notice=notice)
        return grant(request, page, done.new_order_code)

    return await _for_granted(request, code, confirm)


ROUTES = [shop_exchange_page, shop_exchange_quote, shop_exchange]
