"""Shared set-up for the sales tests: the small catalog plus the demo sales policy and partner key."""

from __future__ import annotations

import subprocess
from pathlib import Path

from db.catalog import operations as catalog
from db.catalog.demo import ARENA_PRICES, arena_seats
from db.catalog.tables import PriceClass, SessionSeat
from db.core.actor import Actor
from db.sales import demo
from db.sales.channels.partners import forget_cached_keys
from db.sales.ordering.buyer import Buyer
from tests.helpers import ADMIN_ACTOR, small_catalog, utc

PARTNER_KEY = demo.DEMO_PARTNER_KEY
AUTH = {"Authorization": f"Bearer {PARTNER_KEY}"}
BUYER = Buyer("王小明", "13800138000", "xiaoming@example.cn", "110101199003071234")
SELLER = Actor(None, "seller-test", "seller")


async def sales_catalog() -> dict:
    forget_cached_keys()  # ids restart in every test's fresh tables
    ids = await small_catalog()
    await demo.load(ADMIN_ACTOR)
    ga = await PriceClass.select(PriceClass.id).where(PriceClass.session == ids["ga_session"]).first()
    ids["ga_class"] = ga["id"]
    classes = await PriceClass.select(PriceClass.id, PriceClass.seat_class).where(
        PriceClass.session == ids["seated_session"]
    )
    ids["vip_class"] = next(c["id"] for c in classes if c["seat_class"] == "VIP")
    ids["a_class"] = next(c["id"] for c in classes if c["seat_class"] == "A")
    seats = (
        await SessionSeat.select(SessionSeat.seat, SessionSeat.price_class)
        .where(SessionSeat.session == ids["seated_session"])
        .order_by(SessionSeat.seat)
    )
    ids["seats"] = [s["seat"] for s in seats]
    ids["vip_seats"] = [s["seat"] for s in seats if s["price_class"] == ids["vip_class"]]
    return ids


def pdf_text(pdf: bytes, folder: Path) -> str:
    """The text a PDF shows (Ghostscript's txtwrite), to check what a printed ticket says."""
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    command = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=txtwrite", "-sOutputFile=-", str(source)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


async def arena_session() -> dict:
    """The demo sales policy and a 3,200-seat stadium (40 sections of 80 seats, db.catalog.demo.arena_seats)
    with a session on sale: {"session": id, "sections": {name: [seat ids]}}."""
    await demo.load(ADMIN_ACTOR)
    venue = await catalog.create_venue(ADMIN_ACTOR, "测试体育场", "武汉", "", arena_seats(rows=5, seats=16))
    gate = await catalog.add_gate(ADMIN_ACTOR, venue, "JC-T", "北门")
    event = await catalog.create_event(ADMIN_ACTOR, "测试球赛", "sport")
    session = await catalog.create_session(
        ADMIN_ACTOR, catalog.SessionSpec(event, venue, utc(days=4), utc(days=4, hours=2), ARENA_PRICES, [gate])
    )
    rows = await SessionSeat.select(SessionSeat.seat, SessionSeat.seat.section.as_alias("section")).where(
        SessionSeat.session == session
    )
    sections: dict[str, list[int]] = {}
    for r in rows:
        sections.setdefault(r["section"], []).append(r["seat"])
    return {"session": session, "sections": sections}
