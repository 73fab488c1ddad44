"""The supervisors' live entry dashboard: one page per session whose figures arrive over SSE.

The stream sends the figures (the same partial the page includes) at once and again within a second
of every scan of the session, wherever the scan was made (db.gate.live). It ends after `seconds`
(default STREAM_SECONDS) and the browser's EventSource reconnects: no connection lives for ever, and
tests read a finite stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from db.gate import dashboard, live
from db.gate.rules import REASONS
from db.staff.permissions import Permission
from web.auth import requires
from web.templating import render

STREAM_SECONDS = 300
HEARTBEAT_SECONDS = 15
SETTLE_SECONDS = 0.15  # a burst of scans becomes one update
RECONNECT_MS = 500


@get("/gate/live", guards=[requires(Permission.GATE_MONITOR)])
async def sessions(request: Request) -> Template:
    return render(request, "gate/sessions.html", sessions=await dashboard.current_sessions())


@get("/gate/live/{session_id:int}", guards=[requires(Permission.GATE_MONITOR)])
async def session_dashboard(request: Request, session_id: FromPath[int]) -> Template:
    return render(request, "gate/live.html", data=await dashboard.overview(session_id), REASONS=REASONS)


def _figures(request: Request, data: dict) -> str:
    template = request.app.template_engine.get_template("gate/_figures.html")
    return template.render(data=data, REASONS=REASONS, request=request)


@get("/gate/live/{session_id:int}/stream", guards=[requires(Permission.GATE_MONITOR)], opt={"stream": True})
async def stream(
    request: Request, session_id: FromPath[int], seconds: FromQuery[float] = STREAM_SECONDS
) -> ServerSentEvent:
    """`figures` events (HTML of gate/_figures.html) now and after each scan; ends after `seconds`."""
    first = await dashboard.overview(session_id)  # 404 before the stream starts for an unknown session
    duration = min(max(seconds, 0.1), STREAM_SECONDS)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        async with live.subscription(session_id) as watcher:
            yield ServerSentEventMessage(event="figures", data=_figures(request, first), retry=RECONNECT_MS)
            while (remaining := deadline - loop.time()) > 0:
                if await watcher.wait(min(remaining, HEARTBEAT_SECONDS)):
                    await asyncio.sleep(SETTLE_SECONDS)
                    yield ServerSentEventMessage(
                        event="figures", data=_figures(request, await dashboard.overview(session_id))
                    )
                else:
                    yield ServerSentEventMessage(comment="heartbeat")

    return ServerSentEvent(events())


ROUTES = [sessions, session_dashboard, stream]
