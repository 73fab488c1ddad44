"""The tablet gate page: the attendant picks a gate (and a session, if the gate serves several) once;
the page reads codes from the tablet's camera or a keyboard-wedge scanner and posts each read to
POST /api/v1/checkin/redeem (staff session + CSRF header), showing the verdict full screen.

Offline mode (R9.2, R5.3): the page keeps the gate's offline cache (GET /api/v1/checkin/sync?gate=...) in the
tablet's storage and pulls the numbered revocation delta (`since=N`) on every sync (every `sync` seconds); when
the server does not answer it judges a scan from that cache (signature, session, revoked and unpaid tickets,
entries), journals it and uploads the journal when the server is back. Past `stale` seconds without a
revocation list it shows "revocation list stale", as the camera client does."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from db.core.errors import NotFound
from db.gate import dashboard
from db.gate.rules import REASONS
from db.sessionchange import operations as session_changes
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import QueryId
from web.i18n import gettext
from web.templating import render

HOLD_MS = 2500  # how long a verdict stays on screen before the page is ready for the next ticket
HOLD_RANGE = (500, 10000)
SYNC_SECONDS = 30  # how often the page syncs (the revocation delta, the journal)
SYNC_RANGE = (1, 600)
STALE_SECONDS = 300  # a revocation list older than this is shown as stale (the camera client's default too)
STALE_RANGE = (2, 86400)


def _within(value: int | None, default: int, bounds: tuple[int, int]) -> int:
    return min(max(default if value is None else value, bounds[0]), bounds[1])


@get("/gate/scan", guards=[requires(Permission.GATE_SCAN)])
async def choose_gate(request: Request) -> Template:
    return render(request, "gate/choose.html", gates=await dashboard.gates_with_sessions())


@get("/gate/scan/{code:str}", guards=[requires(Permission.GATE_SCAN)])
async def scan_page(
    request: Request,
    code: FromPath[str],
    session: QueryId = None,
    hold: FromQuery[int | None] = None,
    sync: FromQuery[int | None] = None,
    stale: FromQuery[int | None] = None,
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
        hold_ms=_within(hold, HOLD_MS, HOLD_RANGE),
        sync_s=_within(sync, SYNC_SECONDS, SYNC_RANGE),
        stale_s=_within(stale, STALE_SECONDS, STALE_RANGE),
        reasons={reason: gettext(text) for reason, text in REASONS.items()},  # for verdicts given offline
    )


ROUTES = [choose_gate, scan_page]
