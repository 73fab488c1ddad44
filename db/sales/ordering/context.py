"""What placing an order needs to know, read in one query (the on-sale hot path, R1.3): the
session's state, its price classes with the price in force and the stock left, whether expired holds
are waiting to be released, and the sales policy (channel rule, group tiers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from db.catalog.pricing import ScheduledPrice, price_at
from db.core.errors import Conflict, NotFound
from db.inventory.allocations import Share
from db.sales.ordering.buyer import DEFAULT_BUYER_DETAILS
from db.sales.ordering.pricing import Tier
from db.sales.policy import DEFAULT_HOLD_MINUTES, parse_buyer_details
from db.sales.status import EXPIRING
from db.sales.tables import Order

# One round trip: the session's price classes and scheduled changes, whether expired holds wait, then the
# channel's policy row, the group tiers, the session's stock allocations (db/inventory/allocations.py) and the
# buyer details its event kind needs on this channel (the latest version; NULL: the default) as extra rows
# (`kind` says which; unused columns are NULL).
_CONTEXT_SQL = """
SELECT 'class' AS kind, pc.id, pc.name, pc.seat_class, pc.price_fen, pc.available, s.status, s.ends_at,
       ch.price_fen AS change_fen, ch.effective_at,
       CASE WHEN EXISTS (SELECT 1 FROM sales_order o WHERE o.session = s.id AND o.status IN ({expiring})
                         AND o.expires_at < {{}}) THEN 1 ELSE 0 END AS expired_holds
FROM event_session s
LEFT JOIN price_class pc ON pc.session = s.id
LEFT JOIN price_change ch ON ch.price_class = pc.id AND ch.cancelled = false
WHERE s.id = {{}}
UNION ALL
SELECT 'channel', NULL, NULL, NULL, CASE WHEN needs_audit THEN 1 ELSE 0 END, hold_minutes, NULL, NULL, NULL, NULL, 0
FROM sales_channel_policy WHERE channel = {{}}
UNION ALL
SELECT 'tier', NULL, NULL, NULL, min_size, percent_off, NULL, NULL, NULL, NULL, 0 FROM sales_group_tier
UNION ALL
SELECT 'share', a.id, a.channel, a.outlet, a.price_class, a.available, NULL, NULL, a.partner, NULL,
       CASE WHEN a.may_use_pool THEN 1 ELSE 0 END
FROM stock_allocation a WHERE a.session = {{}}
UNION ALL
SELECT 'realname', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0
FROM inventory_realname_session WHERE session = {{}}
UNION ALL
SELECT 'buyer', NULL, e.kind,
       (SELECT bp.details FROM sales_buyer_policy bp WHERE bp.event_kind = e.kind AND bp.channel = {{}}
        ORDER BY bp.version DESC LIMIT 1),
       NULL, NULL, NULL, NULL, NULL, NULL, 0
FROM event_session s2 JOIN event e ON e.id = s2.event WHERE s2.id = {{}}
""".format(expiring=", ".join(f"'{status}'" for status in EXPIRING))


@dataclass
class PriceClassState:
    id: int
    name: str
    seat_class: str
    base_fen: int
    available: int
    changes: list[ScheduledPrice] = field(default_factory=list)
    price_fen: int = 0


@dataclass
class SaleContext:
    classes: dict[int, PriceClassState]
    expired_holds: bool
    needs_audit: bool
    hold_minutes: int
    tiers: list[Tier]
    shares: dict[int, list[Share]] = field(default_factory=dict)  # allocations per price class
    realname: bool = False  # every ticket needs its holder (db/inventory/realname.py)
    buyer_details: frozenset[str] = DEFAULT_BUYER_DETAILS  # what the buyer must give (db/sales/policy.py)


async def sale_context(session_id: int, channel: str, now: dt.datetime) -> SaleContext:
    """Raises NotFound for an unknown session and Conflict when it is not on sale."""
    rows = await Order.raw(_CONTEXT_SQL, now, session_id, channel, session_id, session_id, channel, session_id)
    session_rows = [r for r in rows if r["kind"] == "class"]
    if not session_rows:
        raise NotFound("No such session.")
    if session_rows[0]["status"] != "on_sale" or session_rows[0]["ends_at"] <= now:
        raise Conflict("This session is not on sale.", field="session_id")
    classes: dict[int, PriceClassState] = {}
    needs_audit, hold_minutes, tiers, realname = False, DEFAULT_HOLD_MINUTES, [], False
    buyer_details = parse_buyer_details(None, channel)
    shares: dict[int, list[Share]] = {}
    for r in rows:
        if r["kind"] == "share":
            share = Share(
                r["id"], r["price_fen"], r["name"], r["seat_class"], r["change_fen"], r["available"],
                bool(r["expired_holds"]),
            )  # fmt: skip
            shares.setdefault(share.price_class, []).append(share)
        elif r["kind"] == "channel":
            needs_audit, hold_minutes = bool(r["price_fen"]), r["available"]
        elif r["kind"] == "realname":
            realname = True
        elif r["kind"] == "buyer":
            buyer_details = parse_buyer_details(r["seat_class"], channel)
        elif r["kind"] == "tier":
            tiers.append(Tier(r["price_fen"], r["available"]))
        elif r["id"] is not None:
            pc = classes.setdefault(
                r["id"], PriceClassState(r["id"], r["name"], r["seat_class"], r["price_fen"], r["available"])
            )
            if r["change_fen"] is not None:
                pc.changes.append(ScheduledPrice(r["change_fen"], r["effective_at"]))
    for pc in classes.values():
        pc.price_fen = price_at(pc.base_fen, pc.changes, now)
    return SaleContext(
        classes,
        bool(session_rows[0]["expired_holds"]),
        needs_audit,
        hold_minutes,
        sorted(tiers, key=lambda t: t.min_size),
        shares,
        realname,
        buyer_details,
    )
