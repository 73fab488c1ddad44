"""The supervisors' live stock monitor (R4.2): sessions on sale by event, and one page per session whose
figures arrive over SSE within a second of every sale, whichever worker made it (db/inventory/live.py: woken by
PostgreSQL's NOTIFY, and each update is one statement, db/inventory/monitor.py refresh).

Each update also evaluates the alert rules (db/inventory/alerts.py check), so an alert that a sale crossed is
on the page with that update; the stream ends after `seconds` and the browser reconnects (no endless
connection; tests read a finite stream), as the gate dashboard's does (web/gate/monitor.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from db.inventory import alerts, live, monitor, realname
from db.staff.permissions import Permission
from web.auth import requires
from web.gate.monitor import HEARTBEAT_SECONDS, RECONNECT_MS, STREAM_SECONDS
from web.i18n import gettext
from web.labels import STOCK_CHANNEL
from web.templating import render


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


async def _compliance(session_id: int) -> realname.Compliance | None:
    """A real-name session's compliance figures (85% on public sale, tickets unbound 24 h before), else None."""
    return next(iter(await realname.compliance(session_id=session_id)), None)


async def _view(session_id: int) -> dict:
    data = await monitor.session_monitor(session_id)
    await alerts.check(data)
    open_alerts = await alerts.alert_rows(session_id, open_only=True)
    compliance = await _compliance(session_id)
    return {"data": data, "open_alerts": open_alerts, "series": _series(data), "compliance": compliance}


async def _update(view: dict, rules: list[alerts.Rule]) -> dict:
    """The view after a change: the figures' one statement, the alert rules read at the stream's start, the
    open alerts read again only when one was raised or acknowledged, the compliance figures of a real-name
    session."""
    data = await monitor.refresh(view["data"], fetch=live.CHANNEL.fetch)
    open_alerts = view["open_alerts"]
    if await alerts.check(data, rules) or data.alerts != view["data"].alerts:
        open_alerts = await alerts.alert_rows(data.session_id, open_only=True)
    compliance = await _compliance(data.session_id) if view["compliance"] else None
    return {"data": data, "open_alerts": open_alerts, "series": _series(data), "compliance": compliance}


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
    rules = await alerts.rules(session_id, active_only=True)
    duration = min(max(seconds, 0.1), STREAM_SECONDS)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        async with live.watching(session_id) as watcher:
            view = await _update(first, rules)  # read once more while watching: no change slips in between
            yield ServerSentEventMessage(event="figures", data=_figures(request, view), retry=RECONNECT_MS)
            while (remaining := deadline - loop.time()) > 0:
                if await watcher.wait(min(remaining, HEARTBEAT_SECONDS)):
                    view = await _update(view, rules)
                    yield ServerSentEventMessage(event="figures", data=_figures(request, view))
                else:
                    yield ServerSentEventMessage(comment="heartbeat")

    return ServerSentEvent(events())


ROUTES = [sessions, session_page, stream]
