"""Two exchanges aiming at the same free seat at the same moment (R5.4, R1.2): one wins, the other is told the
seat was just taken and keeps its own ticket and seat; no seat is lost or sold twice."""

from __future__ import annotations

import asyncio

from db.catalog.tables import SessionSeat
from db.core.errors import Conflict
from db.sales.aftersale.exchanges import SEAT_TAKEN, ExchangeResult, SeatTaken, Target, exchange
from db.sales.aftersale.tables import Exchange
from db.sales.tables import Ticket
from tests.aftersale.support import SELLER, paid_seats, staff
from tests.sales.support import sales_catalog


async def test_two_exchanges_for_one_free_seat_one_wins_and_nothing_is_lost_or_doubled():
    ids = await sales_catalog()
    await staff()
    vip = ids["vip_seats"]  # five VIP seats: two pairs of buyers race for the last one each round
    session = ids["seated_session"]
    rounds = [((vip[0], vip[1]), vip[2]), ((vip[3], vip[2]), vip[4])]
    for (a, b), wanted in rounds:
        if (
            await SessionSeat.select(SessionSeat.status)
            .where((SessionSeat.session == session) & (SessionSeat.seat == wanted))
            .first()
        )["status"] != "free":
            continue
        codes = []
        for seat in (a, b):
            holder = (
                await Ticket.select(Ticket.order.code)
                .where((Ticket.seat == seat) & (Ticket.status == "issued"))
                .first()
            )
            codes.append(holder["order.code"] if holder else await paid_seats(ids, [seat]))
        target = Target(session, ids["vip_class"], (wanted,))
        results = await asyncio.gather(
            *(exchange(SELLER, c, None, target, channel="box_office", method="cash", deliver=False) for c in codes),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, ExchangeResult)]
        lost = [r for r in results if not isinstance(r, ExchangeResult)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and lost[0].message == SEAT_TAKEN
        loser = codes[results.index(lost[0])]
        kept = await Ticket.select(Ticket.status, Ticket.seat).where(Ticket.order.code == loser).first()
        assert kept["status"] == "issued"  # the loser's ticket and seat are untouched
    # Every seat of the session: sold exactly when one valid ticket holds it, else free; none held.
    stock = await SessionSeat.select(SessionSeat.seat, SessionSeat.status).where(SessionSeat.session == session)
    valid = await Ticket.select(Ticket.seat).where((Ticket.session == session) & (Ticket.status == "issued"))
    holders = [t["seat"] for t in valid]
    assert len(holders) == len(set(holders))
    for s in stock:
        assert s["status"] == ("sold" if s["seat"] in holders else "free"), s
    assert await Exchange.count() == len(rounds)


async def _at_once(pairs: list[tuple[str, Target]]) -> list:
    return await asyncio.gather(
        *(
            exchange(SELLER, code, None, target, channel="box_office", method="cash", deliver=False)
            for code, target in pairs
        ),
        return_exceptions=True,
    )


async def test_exchanges_swapping_seats_or_crossing_classes_at_once_never_deadlock():
    """Two buyers want each other's seat at the same moment: neither seat is free until the other exchange has
    committed, so both are told the seat was taken (a 409 in the API, a form error on the pages) and keep their
    tickets. Two exchanges crossing between two classes at once (VIP -> A and A -> VIP: each gives back one class
    and takes the other) both succeed: each locks its seats and classes in one order, so on PostgreSQL they
    queue instead of deadlocking. Never a server error, on both engines."""
    ids = await sales_catalog()
    await staff()
    vip, session = ids["vip_seats"], ids["seated_session"]
    a_seats = [s for s in ids["seats"] if s not in vip]
    codes = [await paid_seats(ids, [vip[0]]), await paid_seats(ids, [vip[1]])]
    swapped = await _at_once(
        [
            (codes[0], Target(session, ids["vip_class"], (vip[1],))),
            (codes[1], Target(session, ids["vip_class"], (vip[0],))),
        ]
    )
    assert all(isinstance(r, SeatTaken) and r.message == SEAT_TAKEN for r in swapped), swapped
    for code, seat in zip(codes, vip[:2], strict=True):
        kept = await Ticket.select(Ticket.status, Ticket.seat).where(Ticket.order.code == code).first()
        assert kept == {"status": "issued", "seat": seat}
    for down_from, down_to, up_from, up_to in (
        (vip[2], a_seats[0], a_seats[1], vip[3]),
        (vip[4], a_seats[2], a_seats[3], vip[2]),
    ):
        down, up = await paid_seats(ids, [down_from]), await paid_seats(ids, [up_from])
        crossed = await _at_once(
            [(down, Target(session, ids["a_class"], (down_to,))), (up, Target(session, ids["vip_class"], (up_to,)))]
        )
        assert all(isinstance(r, ExchangeResult) for r in crossed), crossed
    stock = await SessionSeat.select(SessionSeat.seat, SessionSeat.status).where(SessionSeat.session == session)
    valid = [
        t["seat"]
        for t in await Ticket.select(Ticket.seat).where((Ticket.session == session) & (Ticket.status == "issued"))
    ]
    assert len(valid) == len(set(valid)) == 6 and await Exchange.count() == 4
    for s in stock:
        assert s["status"] == ("sold" if s["seat"] in valid else "free"), s
