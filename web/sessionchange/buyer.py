"""The buyer's answer to a session change or postponement (R6.1, R9.3): the signed link of the e-mail and
SMS (/shop/changes/<token>) shows what changed and, until the deadline, three choices: keep the tickets,
exchange (the order page's exchange), or a refund without any fee. Opening the link grants this browser the
order, like a lookup."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import DomainError
from db.sales.aftersale.notify import send_refund_email
from db.sessionchange import operations as changes
from web.auth import PUBLIC
from web.forms import Form, failure, field_text, go
from web.i18n import format_fen, gettext
from web.shop.grants import client_key, grant
from web.templating import render


async def _page(request: Request, token: str, status_code: int = 200, **extra: Any) -> Template:
    item = await changes.offer(changes.item_of(token))
    until = item["change.choice_until"]
    return render(
        request,
        "sessionchange/offer.html",
        status_code=status_code,
        item=item,
        token=token,
        open=until is None or utcnow() <= until,
        **{"error": None, "notice": None, **extra},
    )


@get("/shop/changes/{token:str}", opt=PUBLIC)
async def offer_page(request: Request, token: FromPath[str]) -> Response:
    page = await _page(request, token)
    return grant(request, page, page.context["item"]["order.code"])


@post("/shop/changes/{token:str}", opt=PUBLIC)
async def answer(request: Request, token: FromPath[str], data: Form) -> Response:
    choice = field_text(data, "choice")
    actor = Actor.customer(client_key(request))
    try:
        item_id = changes.item_of(token)
        refund = await changes.choose(actor, item_id, choice)
    except DomainError as exc:
        return await _page(request, token, exc.status_code, **failure(exc))
    code = (await changes.offer(item_id))["order.code"]
    if choice == changes.EXCHANGE:
        return grant(request, go(request, f"/shop/orders/{code}/exchange"), code)
    if refund is not None:
        page = await _page(
            request,
            token,
            notice=gettext(
                "Refund {number}: you get back {amount}.", number=refund.number, amount=format_fen(refund.refund_fen)
            ),
        )
        page.background = BackgroundTask(send_refund_email, actor, refund)
        return page
    return await _page(request, token, notice=gettext("Thank you: your tickets stay valid for the new date."))


ROUTES = [offer_page, answer]
