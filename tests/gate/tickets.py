"""Issued tickets for the gate tests, written through the sales tables (the sales operations are built
in parallel): an Order in the given status and one Ticket whose code is signed after insert. A concession
ticket's kind exists with its display names (the demo's), as it does for every ticket sold."""

from __future__ import annotations

from db.catalog.tables import PriceClass, SessionSeat
from db.core.clock import utcnow
from db.sales.demo import CONCESSIONS
from db.sales.policy import save_concession_kind
from db.sales.tables import ConcessionKind, Order, Ticket
from db.sales.tickets.codes import keyring
from db.sales.tickets.short_numbers import number_for

_orders = 0


async def issue_ticket(
    session_id: int,
    *,
    concession: str = "",
    order_status: str = "paid",
    status: str = "issued",
    section: str | None = None,
) -> dict:
    """One ticket of `session_id` (a free seat of `section`, or any free seat, for a seated session).
    Returns {"id", "code", "short_code", "session_id", "order_id"}."""
    global _orders
    _orders += 1
    if concession and not await ConcessionKind.exists().where(ConcessionKind.code == concession):
        from tests.helpers import ADMIN_ACTOR

        _, zh, en, hint = next(kind for kind in CONCESSIONS if kind[0] == concession)
        await save_concession_kind(ADMIN_ACTOR, concession, zh, en, percent_off=50, id_hint=hint)
    pc = (
        await PriceClass.select(PriceClass.id, PriceClass.price_fen, PriceClass.seat_class)
        .where(PriceClass.session == session_id)
        .first()
    )
    seat_id = None
    if pc["seat_class"]:
        query = SessionSeat.select(SessionSeat.id, SessionSeat.seat, SessionSeat.price_class).where(
            (SessionSeat.session == session_id) & (SessionSeat.status == "free")
        )
        if section:
            query = query.where(SessionSeat.seat.section == section)
        free = await query.first()
        await SessionSeat.update({SessionSeat.status: "sold"}).where(SessionSeat.id == free["id"])
        seat_id, pc_id = free["seat"], free["price_class"]
    else:
        pc_id = pc["id"]
    now = utcnow()
    order_id = (
        await Order.insert(
            Order(
                code=f"T{_orders:08d}",
                session=session_id,
                channel="box_office",
                status=order_status,
                buyer_name="测试",
                buyer_phone="13800000000",
                total_fen=pc["price_fen"],
                created_at=now,
                paid_at=now if order_status == "paid" else None,
            )
        ).returning(Order.id)
    )[0]["id"]
    ticket_id = (
        await Ticket.insert(
            Ticket(
                order=order_id,
                session=session_id,
                price_class=pc_id,
                seat=seat_id,
                price_fen=pc["price_fen"],
                concession=concession,
                status=status,
                issued_at=now,
                revoked_at=now if status == "revoked" else None,
            )
        ).returning(Ticket.id)
    )[0]["id"]
    code = keyring().sign(ticket_id, session_id, concession != "")
    number = number_for(ticket_id)
    await Ticket.update({Ticket.code: code, Ticket.short_code: number}).where(Ticket.id == ticket_id)
    return {"id": ticket_id, "code": code, "short_code": number, "session_id": session_id, "order_id": order_id}


async def open_venue(*, reentry_allowed: bool = False, gates: int = 4, sections: dict[str, str] | None = None) -> dict:
    """A venue with gates G-1..G-n and a general-admission session whose admission is open now; plus a
    later session at the same venue, and one at another venue. Returns ids and gate codes.
    `sections` maps gate code -> SessionGate.sections for a seated session (two sections A1, A2)."""
    from db.catalog import operations as catalog
    from db.catalog.tables import SessionGate
    from tests.helpers import ADMIN_ACTOR, utc

    seats = (
        "section,row,number,seat_class,x,y\n"
        + "\n".join(f"{s},1,{n},一等,{n},{i}" for i, s in enumerate(("A1", "A2")) for n in range(1, 6))
        + "\n"
    )
    venue = await catalog.create_venue(ADMIN_ACTOR, "检票测试场", "南京", "", seats)
    codes = [f"G-{i}" for i in range(1, gates + 1)]
    gate_ids = [await catalog.add_gate(ADMIN_ACTOR, venue, code, f"{code} 门") for code in codes]
    event = await catalog.create_event(ADMIN_ACTOR, "检票测试", "sport")
    spec = catalog.SessionSpec(
        event,
        venue,
        utc(hours=1),
        utc(hours=3),
        [catalog.PriceClassSpec("站票", 8000, "", 500)],
        gate_ids,
        reentry_allowed=reentry_allowed,
        admission_opens_at=utc(hours=-1),
        admission_closes_at=utc(hours=2),
    )
    now_session = await catalog.create_session(ADMIN_ACTOR, spec)
    later = await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            event, venue, utc(days=2), utc(days=2, hours=2), [catalog.PriceClassSpec("站票", 8000, "", 50)], gate_ids
        ),
    )
    seated = await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            event,
            venue,
            utc(hours=4),
            utc(hours=5),
            [catalog.PriceClassSpec("一等", 20000, "一等")],
            gate_ids,
            admission_opens_at=utc(hours=-1),
            admission_closes_at=utc(hours=5),
        ),
    )
    for code, limit in (sections or {}).items():
        await SessionGate.update({SessionGate.sections: limit}).where(
            (SessionGate.session == seated) & (SessionGate.gate == gate_ids[codes.index(code)])
        )
    other_venue = await catalog.create_venue(ADMIN_ACTOR, "别处剧场", "上海")
    other_gate = await catalog.add_gate(ADMIN_ACTOR, other_venue, "X-1", "别处")
    elsewhere = await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            event,
            other_venue,
            utc(hours=1),
            utc(hours=3),
            [catalog.PriceClassSpec("站票", 8000, "", 50)],
            [other_gate],
            admission_opens_at=utc(hours=-1),
            admission_closes_at=utc(hours=2),
        ),
    )
    return {
        "venue": venue,
        "gates": codes,
        "gate_ids": gate_ids,
        "session": now_session,
        "later": later,
        "seated": seated,
        "elsewhere": elsewhere,
        "other_gate": "X-1",
    }
