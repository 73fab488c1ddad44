"""Replenishment requests (R4.4): a seller or a supervisor (from a shortage alert) asks for more stock
(INVENTORY_REQUEST); a second person approves it as a plan with its source or rejects it, and carries the plan
out (INVENTORY_APPROVE)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.catalog.pricing import yuan_to_fen
from db.catalog.tables import PriceClass
from db.core.errors import DomainError
from db.inventory import replenishment
from db.inventory.allocations import HOLD_BACK, MAX_QUANTITY
from db.inventory.monitor import sessions_on_sale
from db.inventory.tables import Alert, Allocation
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, Form, QueryId, failure, field_text, form_number, go
from web.templating import render


async def _page(request: Request, status_code: int = 200, alert_id: int | None = None, **extra: Any) -> Template:
    sessions = await sessions_on_sale()
    classes = await PriceClass.select(
        PriceClass.id,
        PriceClass.name,
        PriceClass.session,
        PriceClass.session.event.name,
        PriceClass.session.starts_at,
        PriceClass.session.venue.timezone,
    ).where(PriceClass.session.is_in([s["id"] for s in sessions] or [0]))
    alert = None
    if alert_id is not None:
        alert = await Alert.select(Alert.id, Alert.price_class, Alert.kind).where(Alert.id == alert_id).first()
    hold_backs = await Allocation.select(
        Allocation.id, Allocation.price_class, Allocation.price_class.name, Allocation.available
    ).where(Allocation.channel == HOLD_BACK)
    return render(
        request,
        "inventory/replenishment.html",
        status_code=status_code,
        requests=await replenishment.requests(),
        classes=classes,
        alert=alert,
        hold_backs=hold_backs,
        sources=replenishment.SOURCES,
        form=extra.pop("form", {}),
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/inventory/replenishment", guards=[requires(Permission.INVENTORY_REQUEST)])
async def requests_page(request: Request, alert: QueryId = None) -> Template:
    return await _page(request, alert_id=alert)


@post("/inventory/replenishment", guards=[requires(Permission.INVENTORY_REQUEST)])
async def ask(request: Request, data: Form) -> Template | Response:
    try:
        alert = form_number(data, "alert", 0, maximum=MAX_ID)
        await replenishment.request_replenishment(
            request.user.actor,
            form_number(data, "price_class", 0, maximum=MAX_ID, minimum=1),
            form_number(data, "quantity", 0, maximum=MAX_QUANTITY, minimum=1),
            field_text(data, "reason"),
            alert_id=alert or None,
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/inventory/replenishment")


@post("/inventory/replenishment/{request_id:int}/decide", guards=[requires(Permission.INVENTORY_APPROVE)])
async def decide(request: Request, request_id: FromPath[int], data: Form) -> Template | Response:
    try:
        if field_text(data, "decision") == "reject":
            await replenishment.reject(request.user.actor, request_id, field_text(data, "note"))
        else:
            cost = field_text(data, "cost_per_ticket")
            await replenishment.approve(
                request.user.actor,
                request_id,
                field_text(data, "source"),
                hold_back_id=form_number(data, "hold_back", 0, maximum=MAX_ID) or None,
                supplier=field_text(data, "supplier"),
                agreement=field_text(data, "agreement"),
                cost_per_ticket_fen=yuan_to_fen(cost, field="cost_per_ticket") if cost else 0,
                note=field_text(data, "note"),
            )
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return go(request, "/inventory/replenishment")


@post("/inventory/replenishment/{request_id:int}/carry-out", guards=[requires(Permission.INVENTORY_APPROVE)])
async def carry_out(request: Request, request_id: FromPath[int]) -> Template | Response:
    try:
        await replenishment.carry_out(request.user.actor, request_id)
    except DomainError as exc:
        return await _page(request, exc.status_code, **failure(exc))
    return go(request, "/inventory/replenishment")


ROUTES = [requests_page, ask, decide, carry_out]
