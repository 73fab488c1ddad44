"""The live stock monitor (R4.2): per event, session, price class and channel, the capacity, what is allocated,
held, sold and remaining, the sales velocity over the last hour and day, and a forecast of the sell-out time.

Plain values out (frozen dataclasses); it writes nothing but the release of expired holds (as availability
does). A session's figures are ONE statement (`refresh`), so that the live page stays cheap during an on-sale
rush. `change_mark()` is the change counter the live page polls where PostgreSQL's NOTIFY is not heard
(db/inventory/live.py): it moves with every order status change (each writes a sales_order_event row), every
allocation ledger entry and every alert raised or acknowledged, whichever web worker or process wrote it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from db.catalog.tables import EventSession
from db.core.clock import utcnow
from db.core.errors import NotFound
from db.core.transaction import queued_write
from db.inventory.allocations import POOL
from db.inventory.stock import release_expired
from db.inventory.tables import Allocation
from db.sales.status import EXPIRING, HOLDING, PAID
from db.sales.tables import Order

_MARK_SQL = """
SELECT (SELECT max(id) FROM sales_order_event) AS events, (SELECT max(id) FROM stock_allocation_entry) AS entries,
       (SELECT max(id) FROM stock_alert) AS alerts,
       (SELECT count(*) FROM stock_alert WHERE acknowledged_at IS NOT NULL) AS acknowledged
"""


async def change_mark() -> tuple:
    """A value that changes whenever the monitor's figures or alerts may have changed."""
    row = (await Order.raw(_MARK_SQL))[0]
    return (row["events"], row["entries"], row["alerts"], row["acknowledged"])


def forecast(remaining: int, last_hour: int, last_day: int, now: dt.datetime) -> dt.datetime | None:
    """When the stock runs out at the current pace: the last hour's if it sold, else the last day's average;
    None when nothing sold in a day (or nothing is left: it is sold out already)."""
    if remaining <= 0:
        return None
    per_hour = last_hour if last_hour > 0 else last_day / 24
    if per_hour <= 0:
        return None
    return now + dt.timedelta(hours=remaining / per_hour)


@dataclass(frozen=True, slots=True)
class Figures:
    capacity: int
    allocated: int  # given to channels, outlets and partners (not the pool)
    held: int
    sold: int
    remaining: int
    last_hour: int
    last_day: int
    sell_out_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ChannelRow:
    allocation_id: int | None
    channel: str  # pool | hold_back | box_office | outlet | web_shop | partner
    outlet: str
    partner: str
    may_use_pool: bool
    figures: Figures


@dataclass(frozen=True, slots=True)
class ClassRow:
    id: int
    name: str
    seated: bool
    figures: Figures
    channels: list[ChannelRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SessionMonitor:
    session_id: int
    event_id: int
    event_name: str
    venue_name: str
    starts_at: dt.datetime
    now: dt.datetime
    figures: Figures
    classes: list[ClassRow]
    alerts: dict[str, bool]  # the session's raised alerts: key -> acknowledged
    timezone: str  # the venue's: where the session's times are read


# Every figure of one session in ONE statement (the live page re-reads it after each change): per price class and
# order channel and allocation, the tickets held and sold and sold in the last hour and day; each class's capacity
# and free count (general admission) or its seats by status; each allocation; each alert raised (its key and
# whether acknowledged); and whether expired holds wait to be released (then they are, and it is read again).
# Columns a..e are numbers whose meaning depends on `kind`.
_FIGURES_SQL = """
SELECT 'line' AS kind, it.price_class AS price_class, it.allocation AS id, o.channel AS channel,
       '' AS name, '' AS extra,
       SUM(CASE WHEN o.status IN ({holding}) THEN it.quantity ELSE 0 END) AS a,
       SUM(CASE WHEN o.status = '{paid}' THEN it.quantity ELSE 0 END) AS b,
       SUM(CASE WHEN o.status = '{paid}' AND o.paid_at >= {{}} THEN it.quantity ELSE 0 END) AS c,
       SUM(CASE WHEN o.status = '{paid}' AND o.paid_at >= {{}} THEN it.quantity ELSE 0 END) AS d, 0 AS e
FROM sales_order_item it JOIN sales_order o ON o.id = it."order"
WHERE o.session = {{}} AND o.status IN ({holding}, '{paid}')
GROUP BY it.price_class, it.allocation, o.channel
UNION ALL
SELECT 'class', pc.id, pc.id, '', pc.name, pc.seat_class, pc.capacity, pc.available,
       (SELECT count(*) FROM session_seat s WHERE s.price_class = pc.id AND s.status = 'free'),
       (SELECT count(*) FROM session_seat s WHERE s.price_class = pc.id AND s.status = 'held'),
       (SELECT count(*) FROM session_seat s WHERE s.price_class = pc.id AND s.status = 'sold')
FROM price_class pc WHERE pc.session = {{}}
UNION ALL
SELECT 'allocation', a.price_class, a.id, a.channel, a.outlet, COALESCE(p.name, ''), a.quantity, a.available,
       CASE WHEN a.may_use_pool THEN 1 ELSE 0 END, 0, 0
FROM stock_allocation a LEFT JOIN sales_partner p ON p.id = a.partner WHERE a.session = {{}}
UNION ALL
SELECT 'alert', al.price_class, al.id, al.channel, al.key, '',
       CASE WHEN al.acknowledged_at IS NULL THEN 0 ELSE 1 END, 0, 0, 0, 0
FROM stock_alert al WHERE al.session = {{}}
UNION ALL
SELECT 'due', NULL, NULL, '', '', '', 1, 0, 0, 0, 0
WHERE EXISTS (SELECT 1 FROM sales_order x WHERE x.session = {{}} AND x.status IN ({expiring}) AND x.expires_at < {{}})
""".format(holding=", ".join(f"'{s}'" for s in HOLDING), expiring=", ".join(f"'{s}'" for s in EXPIRING), paid=PAID)


async def _figure_rows(session_id: int, now: dt.datetime, fetch: Fetch | None) -> list[dict]:
    """The statement's rows (through `fetch` if given and able, else the pool), after releasing the session's
    expired holds if any were due."""
    for _attempt in range(2):
        day_ago, hour_ago = now - dt.timedelta(days=1), now - dt.timedelta(hours=1)
        args = (hour_ago, day_ago, *(session_id,) * 5, now)
        rows = await fetch(_FIGURES_SQL, *args) if fetch is not None else None
        if rows is None:
            rows = await Order.raw(_FIGURES_SQL, *args)
        if not any(r["kind"] == "due" for r in rows):
            break
        async with queued_write(Order._meta.db):
            await release_expired(now, session_id)
    return rows


_ANY = object()
Fetch = Callable[..., Awaitable[list[dict] | None]]


def _total(counts: dict[tuple, int], price_class: int, allocation=_ANY, channel=_ANY) -> int:
    """The sum of the counts keyed (price class, allocation, channel) that match."""
    wanted = (price_class, allocation, channel)
    return sum(n for key, n in counts.items() if all(w is _ANY or k == w for k, w in zip(key, wanted, strict=True)))


def _figures(capacity, allocated, held, sold, remaining, hour, day, now) -> Figures:
    return Figures(capacity, allocated, held, sold, remaining, hour, day, forecast(remaining, hour, day, now))


def _classes(rows: list[dict], now: dt.datetime) -> list[ClassRow]:
    """The classes with their channels' figures, from the statement's rows."""
    keyed = {kind: [r for r in rows if r["kind"] == kind] for kind in ("line", "class", "allocation")}
    held, sold, hour, day = ({(r["price_class"], r["id"], r["channel"]): int(r[k] or 0) for r in keyed["line"]}
                             for k in "abcd")  # fmt: skip
    classes = []
    for c in sorted(keyed["class"], key=lambda r: r["id"]):
        pc, seated = c["id"], bool(c["extra"])
        mine = sorted(
            (a for a in keyed["allocation"] if a["price_class"] == pc), key=lambda a: (a["channel"] != POOL, a["id"])
        )
        channels = []
        for a in mine:
            quantity, available = int(a["a"]), int(a["b"])
            figures = _figures(
                quantity, 0 if a["channel"] == POOL else quantity, _total(held, pc, a["id"]), _total(sold, pc, a["id"]),
                available, _total(hour, pc, a["id"]), _total(day, pc, a["id"]), now,
            )  # fmt: skip
            channels.append(ChannelRow(a["id"], a["channel"], a["name"], a["extra"], bool(a["c"]), figures))
        if not mine:  # no allocations: the channels that sold the class, sharing its stock
            free = int(c["c"]) if seated else int(c["b"])
            for channel in sorted({key[2] for key in held if key[0] == pc}):
                figures = _figures(
                    0, 0, _total(held, pc, channel=channel), _total(sold, pc, channel=channel), free,
                    _total(hour, pc, channel=channel), _total(day, pc, channel=channel), now,
                )  # fmt: skip
                channels.append(ChannelRow(None, channel, "", "", True, figures))
        capacity = int(c["a"])
        if seated:
            free, class_held, class_sold = int(c["c"]), int(c["d"]), int(c["e"])
        else:
            free, class_held = int(c["b"]), _total(held, pc)
            class_sold = capacity - free - class_held
        allocated = sum(ch.figures.allocated for ch in channels)
        figures = _figures(capacity, allocated, class_held, class_sold, free, _total(hour, pc), _total(day, pc), now)
        classes.append(ClassRow(pc, c["name"], seated, figures, channels))
    return classes


async def _header(session_id: int) -> dict:
    session = (
        await EventSession.select(
            EventSession.id,
            EventSession.starts_at,
            EventSession.event,
            EventSession.event.name.as_alias("event_name"),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where(EventSession.id == session_id)
        .first()
    )
    if session is None:
        raise NotFound("No such session.")
    return session


async def session_monitor(session_id: int, now: dt.datetime | None = None) -> SessionMonitor:
    """The monitor's figures for one session. NotFound for an unknown session."""
    session = await _header(session_id)
    return await refresh(
        SessionMonitor(
            session_id, session["event"], session["event_name"], session["venue_name"], session["starts_at"],
            now or utcnow(), _figures(0, 0, 0, 0, 0, 0, 0, now), [], {}, session["timezone"],
        ), now,
    )  # fmt: skip


async def refresh(
    previous: SessionMonitor, now: dt.datetime | None = None, fetch: Fetch | None = None
) -> SessionMonitor:
    """The same session's figures as they are now: ONE statement (the live page's update after each change;
    `fetch`: the LISTEN connection's, db/core/listen.py Channel.fetch)."""
    now = now or utcnow()
    rows = await _figure_rows(previous.session_id, now, fetch)
    classes = _classes(rows, now)
    total = _figures(
        *(sum(getattr(c.figures, k) for c in classes) for k in ("capacity", "allocated", "held", "sold", "remaining")),
        *(sum(getattr(c.figures, k) for c in classes) for k in ("last_hour", "last_day")),
        now,
    )
    raised = {r["name"]: bool(r["a"]) for r in rows if r["kind"] == "alert"}
    return replace(previous, now=now, figures=total, classes=classes, alerts=raised)


async def sessions_on_sale(now: dt.datetime | None = None) -> list[dict]:
    """Sessions on sale that have not ended, by event then start, with whether they have allocations."""
    now = now or utcnow()
    rows = (
        await EventSession.select(
            EventSession.id,
            EventSession.starts_at,
            EventSession.event,
            EventSession.event.name.as_alias("event_name"),
            EventSession.venue.name.as_alias("venue_name"),
            EventSession.venue.timezone.as_alias("timezone"),
        )
        .where((EventSession.status == "on_sale") & (EventSession.ends_at > now))
        .order_by(EventSession.event)
        .order_by(EventSession.starts_at)
    )
    allocated = {r["session"] for r in await Allocation.select(Allocation.session).where(Allocation.channel != POOL)}
    for r in rows:
        r["allocated"] = r["id"] in allocated
    return rows
