"""Promotions for slow sellers (issue 13, R4.3): discount rules and bundles (supervisor), and selling a bundle
at the box office (two orders, one per session, each ticket at its share of the bundle's price)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.catalog.pricing import yuan_to_fen
from db.core.errors import DomainError, InvalidInput
from db.inventory import promotions
from db.inventory.promotions import BundleSpec, PromotionSpec
from db.inventory.realname import parse_holder_lines
from db.sales.ordering.buyer import Buyer
from db.sales.status import CHANNELS
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.catalog.forms import local_to_utc
from web.forms import Form, failure, field_text, form_number, go, ids, listed
from web.i18n import DEFAULT_TIMEZONE
from web.templating import render

GUARD = [requires(Permission.PROMOTION_EDIT)]


async def _page(request: Request, status_code: int = 200, form: dict[str, Any] | None = None, **extra: Any) -> Template:
    return render(
        request,
        "inventory/promotions.html",
        status_code=status_code,
        promotions=await promotions.promotions(),
        bundles=await promotions.bundles(),
        classes=await promotions.classes_on_sale(),
        channels=[(c, labels.CHANNEL.get(c, c)) for c in CHANNELS],
        form=form or {},
        **{"error": None, "error_field": None, **extra},
    )


@get("/inventory/promotions", guards=GUARD, name="inventory-promotions")
async def promotions_page(request: Request) -> Template:
    return await _page(request)


def _window(data: dict[str, Any]):
    return (
        local_to_utc(field_text(data, "valid_from"), DEFAULT_TIMEZONE, "valid_from"),
        local_to_utc(field_text(data, "valid_until"), DEFAULT_TIMEZONE, "valid_until"),
    )


def _channels(data: dict[str, Any]) -> tuple[str, ...]:
    return tuple(listed(data, "channels"))


@post("/inventory/promotions", guards=GUARD)
async def create_promotion(request: Request, data: Form) -> Response:
    try:
        picked = ids(listed(data, "price_classes"), "price_classes")
        if not picked:
            raise InvalidInput("Choose the price classes the promotion is for.", field="price_classes")
        classes = {c["id"]: c for c in await promotions.classes_on_sale()}
        if picked[0] not in classes:
            raise InvalidInput("A chosen price class is not sold for this session.", field="price_classes")
        kind = field_text(data, "kind")
        value = (
            form_number(data, "value", minimum=1, maximum=90)
            if kind == "percent"
            else yuan_to_fen(field_text(data, "value"), "value")
        )
        valid_from, valid_until = _window(data)
        await promotions.create_promotion(
            request.user.actor,
            PromotionSpec(
                name=field_text(data, "name"),
                session_id=classes[picked[0]]["session"],
                kind=kind,
                value=value,
                valid_from=valid_from,
                valid_until=valid_until,
                limit_tickets=form_number(data, "limit", minimum=1, maximum=promotions.MAX_LIMIT),
                channels=_channels(data),
                price_classes=tuple(picked),
            ),
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, data, **failure(exc))
    return go(request, "/inventory/promotions")


@post("/inventory/promotions/{promotion_id:int}/end", guards=GUARD)
async def end_promotion(request: Request, promotion_id: FromPath[int]) -> Response:
    try:
        await promotions.end_promotion(request.user.actor, promotion_id)
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return go(request, "/inventory/promotions")


@post("/inventory/bundles", guards=GUARD)
async def create_bundle(request: Request, data: Form) -> Response:
    try:
        valid_from, valid_until = _window(data)
        await promotions.create_bundle(
            request.user.actor,
            BundleSpec(
                name=field_text(data, "name"),
                first_class=form_number(data, "first_class", minimum=1),
                second_class=form_number(data, "second_class", minimum=1),
                price_fen=yuan_to_fen(field_text(data, "price"), "price_fen"),
                valid_from=valid_from,
                valid_until=valid_until,
                limit_sets=form_number(data, "limit", minimum=1, maximum=promotions.MAX_LIMIT),
                channels=_channels(data),
            ),
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, data, **failure(exc))
    return go(request, "/inventory/promotions")


async def _sell_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    from db.core.clock import utcnow

    return render(
        request,
        "inventory/bundles.html",
        status_code=status_code,
        bundles=await promotions.bundles(utcnow(), "box_office"),
        **{"error": None, "error_field": None, "form": {}, "sale": None, **extra},
    )


@get("/inventory/bundles", guards=[requires(Permission.SALES_SELL)], name="inventory-bundles")
async def bundles_page(request: Request) -> Template:
    return await _sell_page(request)


@post("/inventory/bundles/{bundle_id:int}/sell", guards=[requires(Permission.SALES_SELL)])
async def sell_bundle(request: Request, bundle_id: FromPath[int], data: Form) -> Template:
    try:
        sale = await promotions.sell_bundle(
            request.user.actor,
            bundle_id,
            form_number(data, "sets", 1, minimum=1, maximum=50),
            channel="box_office",
            buyer=Buyer(
                field_text(data, "buyer_name"), field_text(data, "buyer_phone"), field_text(data, "buyer_email")
            ),
            holders=parse_holder_lines(field_text(data, "holders", maximum=None)),
        )
    except DomainError as exc:
        return await _sell_page(request, exc.status_code, form={**data, "bundle": bundle_id}, **failure(exc))
    return await _sell_page(request, sale=sale)


ROUTES = [promotions_page, create_promotion, end_promotion, create_bundle, bundles_page, sell_bundle]
NAV = [
    (Permission.PROMOTION_EDIT, "/inventory/promotions", "Promotions"),
    (Permission.SALES_SELL, "/inventory/bundles", "Bundles"),
]
