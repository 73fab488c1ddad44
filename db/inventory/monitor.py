"""The live stock monitor (R4.2): per event, session, price class and channel, the capacity, what is allocated,
held, sold and remaining, the sales velocity over the last hour and day, and a forecast of the sell-out time.

Read-only, plain values out (frozen dataclasses). `change_mark()` is the change counter the live page polls:
it moves with every order status change (each writes a sales_order_event row), every allocation ledger entry
and every alert raised or acknowledged, whichever web worker or process wrote it (db/inventory/live.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from db.catalog.tables import EventSession
from db.core.clock import utcnow
from db.core.errors import NotFound
from db.inventory.allocations import POOL, shares_view
from db.inventory.tables import Allocation
from db.sales.queries import availability
from db.sales.status import HOLDING, PAID
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
    price_fen: int
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


# Every count the monitor needs from the order lines, in one pass: held and sold, and sold in the last hour and day,
# per price class, allocation and order channel.
_LINES_SQL = """
SELECT it.price_class, it.allocation, o.channel,
       SUM(CASE WHEN o.status IN ({holding}) THEN it.quantity ELSE 0 END) AS held,
       SUM(CASE WHEN o.status = '{paid}' THEN it.quantity ELSE 0 END) AS sold,
       SUM(CASE WHEN o.status = '{paid}' AND o.paid_at >= {{}} THEN it.quantity ELSE 0 END) AS hour,
       SUM(CASE WHEN o.status = '{paid}' AND o.paid_at >= {{}} THEN it.quantity ELSE 0 END) AS day
FROM sales_order_item it JOIN sales_order o ON o.id = it."order"
WHERE o.session = {{}} AND o.status IN ({holding}, '{paid}')
GROUP BY it.price_class, it.allocation, o.channel
""".format(holding=", ".join(f"'{s}'" for s in HOLDING), paid=PAID)


async def _line_counts(session_id: int, now: dt.datetime) -> tuple[dict, dict, dict]:
    """(held and sold keyed (class, allocation, channel, state), sold last hour, sold last day keyed (class,
    allocation, channel))."""
    rows = await Order.raw(_LINES_SQL, now - dt.timedelta(hours=1), now - dt.timedelta(days=1), session_id)
    held_sold: dict[tuple, int] = {}
    hour: dict[tuple, int] = {}
    day: dict[tuple, int] = {}
    for r in rows:
        key = (r["price_class"], r["allocation"], r["channel"])
        held_sold[(*key, "held")] = int(r["held"] or 0)
        held_sold[(*key, "sold")] = int(r["sold"] or 0)
        hour[key], day[key] = int(r["hour"] or 0), int(r["day"] or 0)
    return held_sold, hour, day


_ANY = object()


def _total(counts: dict[tuple, int], price_class: int, allocation=_ANY, channel=_ANY, state=_ANY) -> int:
    """The sum of the counts keyed (price class, allocation, channel[, state]) that match."""
    wanted = (price_class, allocation, channel, state)
    return sum(n for key, n in counts.items() if all(w is _ANY or k == w for k, w in zip(key, wanted, strict=False)))


def _figures(capacity, allocated, held, sold, remaining, hour, day, now) -> Figures:
    return Figures(capacity, allocated, held, sold, remaining, hour, day, forecast(remaining, hour, day, now))


async def session_monitor(session_id: int, now: dt.datetime | None = None) -> SessionMonitor:
    """The monitor's figures for one session. NotFound for an unknown session."""
    now = now or utcnow()
    session = (
        await EventSession.select(
            EventSession.id,
            EventSession.starts_at,
            EventSession.event,
            EventSession.event.name.as_alias("event_name"),
            EventSession.venue.name.as_alias("venue_name"),
        )
        .where(EventSession.id == session_id)
        .first()
    )
    if session is None:
        raise NotFound("No such session.")
    counts = await availability(session_id, now)  # releases expired holds first
    held_sold, hour, day = await _line_counts(session_id, now)
    per_share: dict[tuple, int] = {}
    for (price_class, allocation, _channel, state), n in held_sold.items():
        per_share[(allocation, price_class, state)] = per_share.get((allocation, price_class, state), 0) + n
    shares = await shares_view(session_id, per_share)
    classes = []
    for c in counts["price_classes"]:
        pc = c["id"]
        mine = [s for s in shares if s.price_class == pc]
        channels = []
        for a in mine:
            sold_hour, sold_day = _total(hour, pc, a.id), _total(day, pc, a.id)
            allocated = 0 if a.channel == POOL else a.quantity
            figures = _figures(a.quantity, allocated, a.held, a.sold, a.available, sold_hour, sold_day, now)
            channels.append(ChannelRow(a.id, a.channel, a.outlet, a.partner, a.may_use_pool, figures))
        if not mine:  # no allocations: the channels that sold the class, sharing its stock
            for channel in sorted({key[2] for key in held_sold if key[0] == pc}):
                held = _total(held_sold, pc, channel=channel, state="held")
                sold = _total(held_sold, pc, channel=channel, state="sold")
                sold_hour, sold_day = _total(hour, pc, channel=channel), _total(day, pc, channel=channel)
                figures = _figures(0, 0, held, sold, c["free"], sold_hour, sold_day, now)
                channels.append(ChannelRow(None, channel, "", "", True, figures))
        allocated = sum(a.quantity for a in mine if a.channel != POOL)
        figures = _figures(
            c["capacity"], allocated, c["held"], c["sold"], c["free"], _total(hour, pc), _total(day, pc), now
        )
        classes.append(ClassRow(pc, c["name"], bool(c["seat_class"]), c["price_fen"], figures, channels))
    total = _figures(
        sum(c.figures.capacity for c in classes),
        sum(c.figures.allocated for c in classes),
        sum(c.figures.held for c in classes),
        sum(c.figures.sold for c in classes),
        sum(c.figures.remaining for c in classes),
        sum(c.figures.last_hour for c in classes),
        sum(c.figures.last_day for c in classes),
        now,
    )
    return SessionMonitor(
        session_id, session["event"], session["event_name"], session["venue_name"], session["starts_at"], now,
        total, classes,
    )  # fmt: skip


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
        )
        .where((EventSession.status == "on_sale") & (EventSession.ends_at > now))
        .order_by(EventSession.event)
        .order_by(EventSession.starts_at)
    )
    allocated = {r["session"] for r in await Allocation.select(Allocation.session).where(Allocation.channel != POOL)}
    for r in rows:
        r["allocated"] = r["id"] in allocated
    return rows
