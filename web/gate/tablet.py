"""The tablet gate page: the attendant picks a gate (and a session, if the gate serves several) once;
the page reads codes from the tablet's camera or a keyboard-wedge scanner and posts each read to
POST /api/v1/checkin/redeem (staff session + CSRF header), showing the verdict full screen."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from db.core.errors import NotFound
from db.gate import dashboard
from db.sessionchange import operations as session_changes
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import QueryId
from web.templating import render

HOLD_MS = 2500  # how long a verdict stays on screen before the page is ready for the next ticket
HOLD_RANGE = (500, 10000)


@get("/gate/scan", guards=[requires(Permission.GATE_SCAN)])
async def choose_gate(request: Request) -> Template:
    return render(request, "gate/choose.html", gates=await dashboard.gates_with_sessions())


@get("/gate/scan/{code:str}", guards=[requires(Permission.GATE_SCAN)])
async def scan_page(
    request: Request, code: FromPath[str], session: QueryId = None, hold: FromQuery[int | None] = None
) -> Template:
    gate = await dashboard.gate_sessions(code)
    chosen = next((s for s in gate["sessions"] if s["id"] == session), None)
    if session is not None and chosen is None:
        raise NotFound(
            "Gate {code} admits no current session with the number {session}.", code=gate["code"], session=session
        )
    reentry = chosen["reentry_allowed"] if chosen else any(s["reentry_allowed"] for s in gate["sessions"])
    shown = [chosen] if chosen else gate["sessions"]
    session_notices = [n for s in shown for n in await session_changes.notices(s["id"])]
    return render(
        request,
        "gate/scan.html",
        gate=gate,
        chosen=chosen,
        reentry=reentry,
        session_notices=session_notices,
        hold_ms=min(max(hold or HOLD_MS, HOLD_RANGE[0]), HOLD_RANGE[1]),
    )


ROUTES = [choose_gate, scan_page]
