"""Partner settlement pages (R8.1, issue 12): agreements, statements (draft -> confirmed -> paid) with their
lines, the re-run check, PDF and XLSX; and the partner API's read-only statements (additive to /api/v1).
Domain logic in db/finance/settlement.py."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from db.catalog.pricing import yuan_to_fen
from db.core.clock import utcnow
from db.core.errors import DomainError, InvalidInput, NotFound
from db.finance import settlement
from db.finance.documents import render_statement_pdf, write_statement_xlsx
from db.finance.ledger import venue_day
from db.finance.reconciliation import parse_day
from db.staff.permissions import Permission
from web.auth import requires
from web.downloads import MEDIA, written_file
from web.errors import problem_responses
from web.forms import Form, failure, field_text, form_number, go
from web.i18n import gettext
from web.sales.partner_api import PARTNER, partner_key_guard
from web.templating import render

SHOWN_LINES = 500  # lines on the page; the files have them all


def _percent_bp(data: dict[str, Any]) -> int:
    """A commission percentage with up to two decimals ("5", "3.5", "12.25") as basis points."""
    text = field_text(data, "percent") or "0"
    whole, _, decimals = text.partition(".")
    if not whole.isdigit() or len(whole) > 3 or not (decimals == "" or (decimals.isdigit() and len(decimals) <= 2)):
        raise InvalidInput("The commission is a percentage from 0 to 100.", field="percent")
    return int(whole) * 100 + int(decimals.ljust(2, "0") or 0)


def _day(data: dict[str, Any], name: str) -> dt.date:
    try:
        return parse_day(field_text(data, name))
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=name) from None


async def _list(request: Request, status_code: int = 200, **extra: Any) -> Template:
    agreements = await settlement.agreements()
    today = venue_day(utcnow())
    proposals = {(a["partner"], a["outlet"]): settlement.last_period(a, today) for a in reversed(agreements)}
    return render(
        request,
        "finance/statements.html",
        status_code=status_code,
        statements=await settlement.statements(),
        agreements=agreements,
        partners=await settlement.partners(),
        proposals=proposals,
        **{"form": {}, "error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/statements", guards=[requires(Permission.FINANCE_SETTLE)])
async def statements_page(request: Request) -> Template:
    return await _list(request)


@post("/finance/agreements", guards=[requires(Permission.FINANCE_SETTLE)])
async def add_agreement(request: Request, data: Form) -> Response | Template:
    try:
        await settlement.save_agreement(
            request.user.actor,
            form_number(data, "partner", minimum=1),
            commission_bp=_percent_bp(data),
            per_ticket_fen=yuan_to_fen(field_text(data, "per_ticket") or "0", field="per_ticket"),
            cycle=field_text(data, "cycle"),
            settlement_day=form_number(data, "settlement_day", 1, maximum=31),
            valid_from=_day(data, "valid_from"),
            outlet=field_text(data, "outlet"),
        )
    except DomainError as exc:
        return await _list(request, exc.status_code, form=data, **failure(exc))
    return go(request, "/finance/statements")


@post("/finance/statements", guards=[requires(Permission.FINANCE_SETTLE)])
async def create(request: Request, data: Form) -> Response | Template:
    try:
        statement_id = await settlement.create_statement(
            request.user.actor,
            form_number(data, "partner", minimum=1),
            _day(data, "start"),
            _day(data, "end"),
            outlet=field_text(data, "outlet"),
        )
    except DomainError as exc:
        return await _list(request, exc.status_code, form=data, **failure(exc))
    return go(request, f"/finance/statements/{statement_id}")


async def _one(request: Request, statement_id: int, status_code: int = 200, **extra: Any) -> Template:
    row, rerun = await settlement.verify(statement_id)
    return render(
        request,
        "finance/statement.html",
        status_code=status_code,
        statement=row,
        lines=await settlement.lines(statement_id, SHOWN_LINES),
        shown=SHOWN_LINES,
        same=rerun.same,
        **{"error": None, "error_field": None, "message": None, **extra},
    )


@get("/finance/statements/{statement_id:int}", guards=[requires(Permission.FINANCE_SETTLE)])
async def statement_page(request: Request, statement_id: FromPath[int], format: FromQuery[str] = "") -> Response:
    """The statement with its first lines; `?format=pdf` or `?format=xlsx` downloads it (the XLSX streams
    every line from the table into the file)."""
    if format not in ("", "pdf", "xlsx"):
        raise InvalidInput("Choose the format pdf or xlsx.", field="format")
    if not format:
        return await _one(request, statement_id)
    row = await settlement.get_statement(statement_id)
    agreement = await settlement.agreement_of(row)
    name = f"statement-{statement_id}-{row['period_start']}-{row['period_end']}.{format}"
    if format == "xlsx":
        return await written_file(
            name, lambda path: write_statement_xlsx(path, row, agreement, settlement.line_batches(statement_id))
        )
    lines = [line async for batch in settlement.line_batches(statement_id) for line in batch]
    content = await asyncio.to_thread(render_statement_pdf, row, agreement, lines)
    return Response(content, media_type=MEDIA["pdf"], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@post("/finance/statements/{statement_id:int}/{action:str}", guards=[requires(Permission.FINANCE_SETTLE)])
async def move(request: Request, statement_id: FromPath[int], action: FromPath[str], data: Form) -> Template:
    actor = request.user.actor
    try:
        if action == "confirm":
            await settlement.confirm(actor, statement_id)
        elif action == "paid":
            await settlement.mark_paid(actor, statement_id, field_text(data, "reference"))
        elif action == "discard":
            await settlement.discard(actor, statement_id)
        else:
            raise InvalidInput("No such step.", field="action")
    except DomainError as exc:
        return await _one(request, statement_id, exc.status_code, **failure(exc))
    return await _one(request, statement_id, message=gettext("Statement updated."))


# --- the partner API: a partner reads its own confirmed and paid statements ---------------------------------


class StatementLineOut(msgspec.Struct):
    order_code: str
    sales_fen: int
    refunds_fen: int
    tickets_sold: int
    tickets_refunded: int
    commission_fen: int
    due_fen: int


class StatementOut(msgspec.Struct):
    id: int
    outlet: str
    period_start: dt.date
    period_end: dt.date
    status: str
    orders: int
    tickets: int
    sales_fen: int
    refunds_fen: int
    commission_fen: int
    due_fen: int
    digest: str
    paid_reference: str


class StatementDetailOut(StatementOut):
    lines: list[StatementLineOut] = []


def _out(row: dict) -> dict:
    return {k: row[k] for k in StatementOut.__struct_fields__}


@get("/api/v1/statements", guards=[partner_key_guard], opt=PARTNER, tags=["partner"], responses=problem_responses(401))
async def api_statements(request: Request) -> list[StatementOut]:
    """The partner's confirmed and paid settlement statements, newest first (drafts are not shown)."""
    rows = await settlement.statements(request.scope["partner"].id, visible_to_partner=True)
    return [StatementOut(**_out(r)) for r in rows]


@get(
    "/api/v1/statements/{statement_id:int}",
    guards=[partner_key_guard],
    opt=PARTNER,
    tags=["partner"],
    responses=problem_responses(401, 404),
)
async def api_statement(request: Request, statement_id: FromPath[int]) -> StatementDetailOut:
    """One confirmed or paid statement with a line per order (sales - refunds - commission = due)."""
    row = await settlement.get_statement(statement_id, request.scope["partner"].id)
    if row["status"] not in (settlement.CONFIRMED, settlement.PAID):
        raise NotFound("No such statement.")
    lines = [
        StatementLineOut(
            line.code,
            line.sales_fen,
            line.refunds_fen,
            line.tickets_sold,
            line.tickets_refunded,
            line.commission_fen,
            line.due_fen,
        )
        async for batch in settlement.line_batches(statement_id)
        for line in batch
    ]
    return StatementDetailOut(**_out(row), lines=lines)


ROUTES = [statements_page, add_agreement, create, statement_page, move, api_statements, api_statement]
NAV = [(Permission.FINANCE_SETTLE, "/finance/statements", "Partner statements")]
