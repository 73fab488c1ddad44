"""Inventory and attendance reports (R6.2, issue 12): capacity, allocated, held, sold and free per session,
class and channel (one line per allocation where a class is shared out); sold against admitted per session
and gate, and the no-shows."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import EventSession
from db.gate.redeem import redeem
from db.inventory.allocations import create_allocation
from db.reports import attendance, inventory
from db.reports.filters import parse, today
from db.sales.tables import Ticket
from tests.helpers import ADMIN_ACTOR, utc
from tests.reports.support import sales_with_refund


def _ahead():
    return parse({"since": today().isoformat(), "until": (today() + dt.timedelta(days=10)).isoformat()})


async def test_inventory_counts_each_class_and_each_allocation():
    ids = await sales_with_refund()
    rows = await inventory.stock(_ahead())
    park = next(r for r in rows if r["price_class"] == "成人票")
    assert (park["channel"], park["capacity"], park["sold"], park["held"], park["free"]) == ("pool", 50, 3, 0, 47)
    vip = next(r for r in rows if r["price_class"] == "VIP")
    # Five VIP seats: two sold in cash, one of them refunded; none of the partner's seats is VIP.
    assert (vip["capacity"], vip["sold"], vip["free"]) == (5, 1, 4)
    await create_allocation(ADMIN_ACTOR, ids["ga_class"], "web_shop", 20)
    rows = [r for r in await inventory.stock(_ahead()) if r["price_class"] == "成人票"]
    by_channel = {r["channel"]: r for r in rows}
    assert set(by_channel) == {"pool", "web_shop"}
    assert (by_channel["web_shop"]["allocated"], by_channel["web_shop"]["free"]) == (20, 20)
    assert by_channel["pool"]["allocated"] == 0 and by_channel["pool"]["free"] == 27
    assert sum(r["free"] for r in rows) == 47


async def test_attendance_is_sold_against_admitted_per_session_and_gate():
    ids = await sales_with_refund()
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )
    tickets = await Ticket.select(Ticket.code).where(
        (Ticket.session == ids["seated_session"]) & (Ticket.status == "issued")
    )
    assert len(tickets) == 3  # one VIP seat left after the refund, two partner seats
    assert (await redeem(tickets[0]["code"], "T-N"))["status"] == "ok"
    assert (await redeem(tickets[1]["code"], "T-S"))["status"] == "ok"
    show = next(r for r in await attendance.by_session(_ahead()) if r["event"] == "测试演出")
    assert (show["sold"], show["admitted"], show["no_shows"], show["show_rate"]) == (3, 2, 1, 66.7)
    gates = {r["gate"]: (r["admitted"], r["share"]) for r in await attendance.by_gate(_ahead())}
    assert gates == {"T-N 北门": (1, 50.0), "T-S 南门": (1, 50.0)}
    partner_only = await attendance.by_session(parse({**_ahead().as_params(), "channel": "partner"}))
    assert [(r["sold"]) for r in partner_only] == [2]
