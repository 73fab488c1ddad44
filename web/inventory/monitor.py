"""The supervisors' live stock monitor (R4.2): sessions on sale by event, and one page per session whose
figures arrive over SSE within a second of every sale, whichever worker made it (db/inventory/live.py).

Each update also evaluates the alert rules (db/inventory/alerts.py check), so an alert that a sale crossed is
on the page with that update; the stream ends after `seconds` and the browser reconnects (no endless
connection; tests read a finite stream), as the gate dashboard's does (web/gate/monitor.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from db.inventory import alerts, live, monitor
from db.staff.permissions import Permission
from web.auth import requires
from web.gate.monitor import HEARTBEAT_SECONDS, RECONNECT_MS, STREAM_SECONDS
from web.i18n import gettext
from web.labels import STOCK_CHANNEL
from web.templating import render

SETTLE_SECONDS = 0.05  # a burst of sales becomes one update


def channel_label(channel: str) -> str:
    return gettext(STOCK_CHANNEL[channel]) if channel in STOCK_CHANNEL else channel


def _series(data: monitor.SessionMonitor) -> dict:
    """The chart's bars: each class, or each of its allocations when it has them."""
    bars = []
    for c in data.classes:
        rows = [ch for ch in c.channels if ch.allocation_id is not None]
        if not rows:
            bars.append((c.name, c.figures))
        for ch in rows:
            bars.append((f"{c.name} · {ch.partner or ch.outlet or channel_label(ch.channel)}", ch.figures))
    return {
        "labels": [label for label, _ in bars],
        **{key: [getattr(f, key) for _, f in bars] for key in ("sold", "held", "remaining")},
    }


async def _view(session_id: int) -> dict:
    data = await monitor.session_monitor(session_id)
    await alerts.check(data)
    open_alerts = await alerts.alert_rows(session_id, open_only=True)
    return {"data": data, "open_alerts": open_alerts, "series": _series(data)}


@get("/inventory/monitor", guards=[requires(Permission.INVENTORY_MONITOR)])
async def sessions(request: Request) -> Template:
    rows = await monitor.sessions_on_sale()
    overviews = [await monitor.session_monitor(r["id"]) for r in rows]
    return render(request, "inventory/monitor_sessions.html", overviews=overviews)


@get("/inventory/monitor/{session_id:int}", guards=[requires(Permission.INVENTORY_MONITOR)])
async def session_page(request: Request, session_id: FromPath[int]) -> Template:
    return render(request, "inventory/monitor.html", **await _view(session_id))


def _figures(request: Request, view: dict) -> str:
    template = request.app.template_engine.get_template("inventory/_monitor_figures.html")
    return template.render(request=request, **view)


@get(
    "/inventory/monitor/{session_id:int}/stream", guards=[requires(Permission.INVENTORY_MONITOR)], opt={"stream": True}
)
async def stream(
    request: Request, session_id: FromPath[int], seconds: FromQuery[float] = STREAM_SECONDS
) -> ServerSentEvent:
    """`figures` events (HTML of inventory/_monitor_figures.html) now and after each change; ends after `seconds`."""
    first = await _view(session_id)  # 404 before the stream starts for an unknown session
    duration = min(max(seconds, 0.1), STREAM_SECONDS)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        watcher = live.Watcher()
        await watcher.start()
        yield ServerSentEventMessage(event="figures", data=_figures(request, first), retry=RECONNECT_MS)
        while (remaining := deadline - loop.time()) > 0:
            if await watcher.wait(min(remaining, HEARTBEAT_SECONDS)):
                await asyncio.sleep(SETTLE_SECONDS)
                yield ServerSentEventMessage(event="figures", data=_figures(request, await _view(session_id)))
            else:
                yield ServerSentEventMessage(comment="heartbeat")

    return ServerSentEvent(events())


ROUTES = [sessions, session_page, stream]
