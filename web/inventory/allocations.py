"""Channel allocations of a session (R4.3): what each channel, outlet and partner was given, holds and sold,
a form that allocates free stock (a quantity, or a seat block: a section's rows of a seated class), the pool
setting of each allocation, and stock moves: asked for with a reason (INVENTORY_MANAGE), approved or rejected
by a second person (INVENTORY_APPROVE), with the ledger."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.inventory import allocations
from db.inventory.monitor import sessions_on_sale
from db.sales.queries import availability
from db.sales.tables import Partner
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, Form, failure, field_text, form_number, go
from web.templating import render


async def _page(request: Request, session_id: int, status_code: int = 200, **extra: Any) -> Template:
    counts = await availability(session_id)
    return render(
        request,
        "inventory/allocations.html",
        status_code=status_code,
        session_id=session_id,
        classes=counts["price_classes"],
        shares=await allocations.shares_view(session_id),
        moves=await allocations.moves(session_id=session_id),
        ledger=await allocations.ledger(session_id),
        partners=await Partner.select(Partner.id, Partner.name).where(Partner.active == True).order_by(Partner.name),  # noqa: E712
        targets=allocations.TARGETS,
        form=extra.pop("form", {}),
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/inventory/allocations", guards=[requires(Permission.INVENTORY_MANAGE)])
async def sessions(request: Request) -> Template:
    return render(request, "inventory/allocation_sessions.html", sessions=await sessions_on_sale())


@get("/inventory/allocations/{session_id:int}", guards=[requires(Permission.INVENTORY_MANAGE)])
async def session_page(request: Request, session_id: FromPath[int]) -> Template:
    return await _page(request, session_id)


@post("/inventory/allocations/{session_id:int}", guards=[requires(Permission.INVENTORY_MANAGE)])
async def allocate(request: Request, session_id: FromPath[int], data: Form) -> Template | Response:
    try:
        partner = form_number(data, "partner", 0, maximum=MAX_ID)
        price_class = form_number(data, "price_class", 0, maximum=MAX_ID, minimum=1)
        seats, quantity = [], 0
        if section := field_text(data, "section"):  # a seat block: a section's rows
            first = field_text(data, "first_row")
            seats = await allocations.row_range_seats(
                price_class, section, first, field_text(data, "last_row") or first
            )
        else:
            quantity = form_number(data, "quantity", 0, maximum=allocations.MAX_QUANTITY, minimum=1)
        await allocations.create_allocation(
            request.user.actor,
            price_class,
            field_text(data, "channel"),
            quantity,
            outlet=field_text(data, "outlet"),
            partner_id=partner or None,
            may_use_pool=bool(field_text(data, "may_use_pool")),
            seats=seats,
        )
    except DomainError as exc:
        return await _page(request, session_id, exc.status_code, form=data, **failure(exc))
    return go(request, f"/inventory/allocations/{session_id}")


@post("/inventory/allocations/{session_id:int}/pool-setting", guards=[requires(Permission.INVENTORY_MANAGE)])
async def pool_setting(request: Request, session_id: FromPath[int], data: Form) -> Template | Response:
    try:
        allocation_id = form_number(data, "allocation", 0, maximum=MAX_ID, minimum=1)
        await allocations.set_may_use_pool(request.user.actor, allocation_id, field_text(data, "allowed") == "1")
    except DomainError as exc:
        return await _page(request, session_id, exc.status_code, **failure(exc))
    return go(request, f"/inventory/allocations/{session_id}")


@post("/inventory/allocations/{session_id:int}/moves", guards=[requires(Permission.INVENTORY_MANAGE)])
async def request_move(request: Request, session_id: FromPath[int], data: Form) -> Template | Response:
    try:
        await allocations.request_move(
            request.user.actor,
            form_number(data, "source", 0, maximum=MAX_ID, minimum=1),
            form_number(data, "target", 0, maximum=MAX_ID, minimum=1),
            form_number(data, "move_quantity", 0, maximum=allocations.MAX_QUANTITY, minimum=1),
            field_text(data, "reason"),
        )
    except DomainError as exc:
        return await _page(request, session_id, exc.status_code, form=data, **failure(exc))
    return go(request, f"/inventory/allocations/{session_id}")


@post(
    "/inventory/allocations/{session_id:int}/moves/{move_id:int}/decide",
    guards=[requires(Permission.INVENTORY_APPROVE)],
)
async def decide_move(
    request: Request, session_id: FromPath[int], move_id: FromPath[int], data: Form
) -> Template | Response:
    try:
        if field_text(data, "decision") == "approve":
            await allocations.approve_move(request.user.actor, move_id, field_text(data, "note"))
        else:
            await allocations.reject_move(request.user.actor, move_id, field_text(data, "note"))
    except DomainError as exc:
        return await _page(request, session_id, exc.status_code, **failure(exc))
    return go(request, f"/inventory/allocations/{session_id}")


ROUTES = [sessions, session_page, allocate, pool_setting, request_move, decide_move]
