"""Demo data for the after-sale pages: refund rule versions (performances, films, sports, one event's own
rules), a refunded window order, a single ticket refunded, and a large refund awaiting a supervisor."""

from __future__ import annotations

from db.catalog.tables import Event, SessionSeat
from db.core.actor import Actor
from db.sales.aftersale import policies
from db.sales.aftersale.refunds import request_refund
from db.sales.aftersale.rules import Rules, Tier
from db.sales.aftersale.tables import AftersalePolicy, Refund
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.tables import Ticket
from db.staff.tables import StaffUser

PERFORMANCE = Rules(
    refund_tiers=(Tier(72, 5, min_fee_fen=1000), Tier(48, 10), Tier(24, 20, max_fee_fen=20000)),
    free_window_hours=2,
    exchange_tiers=(Tier(48, 0), Tier(24, 10)),
    approval_above_fen=200000,
)
FILM = Rules(refund_tiers=(Tier(2, 0),), exchange_tiers=(Tier(1, 0),))
SPORT = Rules(refund_tiers=(Tier(72, 10), Tier(24, 30)), whole_order_only=True, exchange_allowed=False)
DRAMA = Rules(
    refund_tiers=(Tier(168, 0), Tier(48, 10), Tier(24, 30)),
    exchange_tiers=(Tier(48, 0),),
    approval_above_fen=100000,
)
BUYERS = [
    Buyer("孙丽华", "13611112222", "sunlh@example.cn", "320102198805061234"),
    Buyer("周建国", "13522223333", "zhoujg@example.com", "310104197912123456"),
    Buyer("吴婷婷", "13433334444", "wutt@example.cn", "110105199501019876"),
]


async def _staff(username: str) -> Actor | None:
    row = (
        await StaffUser.select(StaffUser.id, StaffUser.username, StaffUser.role)
        .where(StaffUser.username == username)
        .first()
    )
    return Actor(row["id"], row["username"], row["role"]) if row else None


async def _versions(supervisor: Actor) -> None:
    await policies.save_version(
        supervisor, PERFORMANCE.as_json(), reason="演出类执行文旅市场发〔2023〕96号梯次退票", event_kind="performance"
    )
    await policies.save_version(supervisor, FILM.as_json(), reason="影院：开场前 2 小时可免费退票", event_kind="film")
    await policies.save_version(supervisor, SPORT.as_json(), reason="赛事实名制门票只能整单退", event_kind="sport")
    drama = await Event.select(Event.id).where(Event.name == "话剧《雷雨》").first()
    if drama:
        await policies.save_version(
            supervisor, DRAMA.as_json(), reason="主办方要求：开演前 7 天可全额退票", event_id=drama["id"]
        )


async def _opera_order(seller: Actor, buyer: Buyer, seats: int, method: str) -> str | None:
    free = (
        await SessionSeat.select(SessionSeat.seat, SessionSeat.session)
        .where(
            (SessionSeat.status == "free")
            & (SessionSeat.session.event.name == "歌剧《茶花女》")
            & (SessionSeat.price_class.name == "VIP")
        )
        .order_by(SessionSeat.session)
        .order_by(SessionSeat.seat)
        .limit(seats)
    )
    if len(free) < seats:
        return None
    order = await create_order(
        seller,
        session_id=free[0]["session"],
        channel="box_office",
        buyer=buyer,
        items=[ItemRequest(seat_id=s["seat"]) for s in free],
    )
    await confirm_window_payment(
        seller, order.code, method, tendered_fen=10**7 if method == "cash" else None, reference=f"POS{order.code[-6:]}"
    )
    return order.code


async def load(actor: Actor) -> None:
    seller, supervisor = await _staff("lina"), await _staff("zhangwei")
    if seller is None or supervisor is None:
        return
    if await AftersalePolicy.count() <= 1:
        await _versions(supervisor)
    if await Refund.count():
        return
    refunded = await _opera_order(seller, BUYERS[0], 1, "cash")
    if refunded:
        await request_refund(seller, refunded, channel="box_office", proof="ticket", id_number=BUYERS[0].id_number)
    partly = await _opera_order(seller, BUYERS[1], 2, "card")
    if partly:
        first = await Ticket.select(Ticket.id).where(Ticket.order.code == partly).order_by(Ticket.id).first()
        await request_refund(
            seller,
            partly,
            [first["id"]],
            channel="box_office",
            proof="receipt",
            id_number=BUYERS[1].id_number,
            reference="POS-20261201-0087",
        )
    large = await _opera_order(seller, BUYERS[2], 2, "cash")
    if large:  # 2 x 1280 yuan: above the 2000 yuan threshold, waits for a supervisor
        await request_refund(seller, large, channel="box_office", proof="phone_message", id_number=BUYERS[2].id_number)
