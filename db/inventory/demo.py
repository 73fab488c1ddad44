"""Demo inventory (issue 13 part A): the festival's lawn tickets shared out to the demo partner, a named outlet,
the box office and a hold-back; a seat block of a seated class for the demo partner; alert rules for shortages
and slow sales; a stock move and a replenishment request waiting for the supervisor. Safe to run twice."""

from __future__ import annotations

from db.catalog.tables import PriceClass, SessionSeat
from db.core.actor import Actor
from db.inventory import alerts, allocations, replenishment
from db.inventory.tables import AlertRule, Allocation
from db.sales.demo import DEMO_PARTNER
from db.sales.tables import Partner
from db.staff.tables import StaffUser

OUTLET = "王府井售票点"


async def _staff(username: str) -> Actor:
    row = (
        await StaffUser.select(StaffUser.id, StaffUser.display_name, StaffUser.role)
        .where(StaffUser.username == username)
        .first()
    )
    return Actor(row["id"], row["display_name"], row["role"]) if row else Actor.system("demo")


async def load(actor: Actor) -> None:
    if await Allocation.exists():
        return
    lawn = (
        await PriceClass.select(PriceClass.id, PriceClass.session)
        .where((PriceClass.name == "草坪票") & (PriceClass.seat_class == ""))
        .order_by(PriceClass.id)
        .first()
    )
    partner = await Partner.select(Partner.id).where(Partner.name == DEMO_PARTNER).first()
    if lawn is None or partner is None:
        return
    ga = lawn["id"]
    own = await allocations.create_allocation(actor, ga, "partner", 300, partner_id=partner["id"], may_use_pool=True)
    outlet = await allocations.create_allocation(actor, ga, "outlet", 150, outlet=OUTLET)
    window = await allocations.create_allocation(actor, ga, "box_office", 200, may_use_pool=True)
    await allocations.create_allocation(actor, ga, "hold_back", 50)
    await allocations.request_move(actor, outlet, own, 40, "王府井网点预售缓慢，票多多平台需求旺盛")
    await _seat_block(actor, partner["id"])
    if not await AlertRule.exists():
        await alerts.create_rule(actor, "shortage", percent_below=10, hours_before=24)
        await alerts.create_rule(actor, "shortage", channel="box_office", remaining_below=20, hours_before=2)
        await alerts.create_rule(actor, "slow_sale", session_id=lawn["session"], hours_before=7 * 24, target_percent=30)
    await replenishment.request_replenishment(
        await _staff("lina"), ga, 100, "周末窗口排队，现场票不够卖", target_id=window
    )


async def _seat_block(actor: Actor, partner_id: int) -> None:
    """The demo partner's seat block: the free seats of the first row of the first seated class."""
    seated = await PriceClass.select(PriceClass.id).where(PriceClass.seat_class != "").order_by(PriceClass.id).first()
    if seated is None:
        return
    seats = await SessionSeat.select(SessionSeat.seat, SessionSeat.seat.section, SessionSeat.seat.row_label).where(
        (SessionSeat.price_class == seated["id"]) & (SessionSeat.status == "free")
    ).order_by(SessionSeat.seat)  # fmt: skip
    if seats:
        row = (seats[0]["seat.section"], seats[0]["seat.row_label"])
        block = [s["seat"] for s in seats if (s["seat.section"], s["seat.row_label"]) == row]
        await allocations.create_allocation(actor, seated["id"], "partner", 0, partner_id=partner_id, seats=block)
