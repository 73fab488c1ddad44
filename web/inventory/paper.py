"""Paper ticket stock (issue 13, R4.5): the ledger per category and location, the journal, and the forms to
add locations, receive, issue, return, void, spoil and lose serial ranges; printing a paid order's tickets
on the window's stock (/inventory/print, the box office's paper hand-over)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Template

from db.core.errors import DomainError
from db.inventory import paper
from db.sales.delivery.operations import record_handover
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, go
from web.templating import render

SERIAL = {"minimum": 1, "maximum": paper.MAX_SERIAL}


async def _page(request: Request, status_code: int = 200, form: dict[str, Any] | None = None, **extra: Any) -> Template:
    stores, windows = await paper.ledger()
    return render(
        request,
        "inventory/paper.html",
        status_code=status_code,
        stores=stores,
        windows=windows,
        store_locations=await paper.locations("store"),
        window_locations=await paper.locations("window"),
        journal=await paper.journal(60),
        form=form or {},
        **{"error": None, "error_field": None, "done": request.query_params.get("done", ""), **extra},
    )


@get("/inventory/paper", guards=[requires(Permission.INVENTORY_PAPER)], name="inventory-paper")
async def paper_page(request: Request) -> Template:
    return await _page(request)


async def _act(request: Request, data: dict[str, Any], action) -> Response:
    try:
        done = await action()
    except DomainError as exc:
        return await _page(request, exc.status_code, data, **failure(exc))
    return go(request, f"/inventory/paper?done={done}")


@post("/inventory/paper/locations", guards=[requires(Permission.INVENTORY_PAPER)])
async def add_location(request: Request, data: Form) -> Response:
    async def action():
        await paper.add_location(request.user.actor, field_text(data, "name"), field_text(data, "kind"))
        return "location"

    return await _act(request, data, action)


@post("/inventory/paper/moves", guards=[requires(Permission.INVENTORY_PAPER)])
async def move(request: Request, data: Form) -> Response:
    """One form for every movement of a range: receive, issue, return, void, spoil, lose."""

    async def action():
        actor, kind, category = request.user.actor, field_text(data, "kind"), field_text(data, "category")
        first = form_number(data, "first", **SERIAL)
        last = form_number(data, "last", first, **SERIAL)
        store = form_number(data, "store")
        window = form_number(data, "window")
        reason = field_text(data, "reason")
        if kind == "receive":
            await paper.receive(actor, category, first, last, store, reason)
        elif kind == "issue":
            await paper.issue(actor, category, first, last, store, window)
        elif kind == "return":
            await paper.return_range(actor, category, first, last, window, reason)
        else:
            await paper.mark(actor, kind, category, first, last, window, reason)
        return kind

    return await _act(request, data, action)


async def _print_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    return render(
        request,
        "inventory/print.html",
        status_code=status_code,
        window_locations=await paper.locations("window"),
        **{"error": None, "error_field": None, "printed": [], "form": {}, **extra},
    )


@get("/inventory/print", guards=[requires(Permission.PAPER_PRINT)], name="inventory-print")
async def print_page(request: Request, code: FromQuery[str] = "") -> Template:
    return await _print_page(request, form={"code": code[:16]})


@post("/inventory/print", guards=[requires(Permission.PAPER_PRINT)])
async def print_order(request: Request, data: Form) -> Template:
    """Print a paid order's tickets on blank stock: each consumes one serial, and the pickup is recorded."""
    code = field_text(data, "code").upper()
    try:
        printed = await paper.print_order(
            request.user.actor, code, form_number(data, "window", minimum=1), field_text(data, "category")
        )
        await record_handover(request.user.actor, code, "pickup", "paper " + ", ".join(str(p.serial) for p in printed))
    except DomainError as exc:
        return await _print_page(request, exc.status_code, form=data, **failure(exc))
    return await _print_page(request, form=data, printed=printed)


@post("/inventory/print/spoiled", guards=[requires(Permission.PAPER_PRINT)])
async def misprint(request: Request, data: Form) -> Template:
    """A misprinted blank at the window (jammed, smudged): recorded as spoiled with its reason."""
    try:
        serial = form_number(data, "serial", **SERIAL)
        await paper.mark(
            request.user.actor,
            "spoil",
            field_text(data, "category"),
            serial,
            serial,
            form_number(data, "window", minimum=1),
            field_text(data, "reason"),
        )
    except DomainError as exc:
        return await _print_page(request, exc.status_code, form=data, **failure(exc))
    return await _print_page(request, form=data, spoiled=True)


ROUTES = [paper_page, add_location, move, print_page, print_order, misprint]
NAV = [
    (Permission.INVENTORY_PAPER, "/inventory/paper", "Paper ticket stock"),
    (Permission.PAPER_PRINT, "/inventory/print", "Print paper tickets"),
]
