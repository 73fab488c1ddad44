"""Real-name sessions (issue 13): every ticket bound to one holder, one ID one ticket per session (also when
orders race), the ID stored only masked and as a keyed hash, the holder shown at the gate online and offline,
and the compliance figures (85% on public sale, tickets unbound 24 h before the start)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from db.catalog.tables import EventSession
from db.core.errors import Conflict, InvalidInput
from db.gate.devices import forget_cached, gate_by_code
from db.gate.redeem import redeem
from db.gate.sync import snapshot
from db.inventory import realname
from db.inventory.realname import Holder, check_digit
from db.inventory.tables import TicketHolder
from db.sales.ordering.orders import ItemRequest, cancel_order, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.tables import Order, OrderItem, Ticket
from scanner.offline import OfflineCache
from tests.helpers import ADMIN_ACTOR, utc
from tests.inventory.paper_support import SELLER, SUPERVISOR, staff
from tests.sales.support import BUYER, sales_catalog


def resident_id(n: int) -> str:
    first17 = f"1101011990030{n:04d}"
    return first17 + check_digit(first17)


async def _realname_ga(ids: dict) -> int:
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=5)
    return ids["ga_session"]


async def _order(ids: dict, holders: list[Holder], quantity: int | None = None, channel: str = "box_office"):
    return await create_order(
        ADMIN_ACTOR,
        session_id=ids["ga_session"],
        channel=channel,
        buyer=BUYER,
        items=[ItemRequest(price_class_id=ids["ga_class"], quantity=quantity or len(holders))],
        holders=holders,
    )


async def test_each_ticket_is_bound_to_its_holder_and_the_id_is_stored_masked_only():
    ids = await sales_catalog()
    await staff()
    await _realname_ga(ids)
    holders = [Holder("王小明", resident_id(1)), Holder("李小红", resident_id(2).lower())]
    order = await _order(ids, holders)
    await confirm_window_payment(SELLER, order.code, "card", reference="88020461")
    rows = await TicketHolder.select().order_by(TicketHolder.unit)
    tickets = await Ticket.select(Ticket.id).where(Ticket.order.code == order.code).order_by(Ticket.id)
    assert [r["ticket"] for r in rows] == [t["id"] for t in tickets]
    assert [r["name"] for r in rows] == ["王小明", "李小红"]
    assert rows[0]["id_masked"] == resident_id(1)[:4] + "*" * 10 + resident_id(1)[-4:]
    for row in rows:  # the number itself is nowhere in the row
        assert not any(resident_id(n) in str(v) for v in row.values() for n in (1, 2))
        assert len(row["id_key"]) == 64


async def test_missing_or_bad_holders_are_refused_with_nothing_written():
    ids = await sales_catalog()
    await staff()
    await _realname_ga(ids)
    cases = [
        ([Holder("王小明", resident_id(1))], 2, "for each of the"),
        ([Holder("王小明", resident_id(1)), Holder("李小红", resident_id(1))], 2, "given twice"),
        ([Holder("王小明", resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1"))], 1, "check digit"),
        ([Holder("", resident_id(3))], 1, "holder's name"),
    ]
    for holders, quantity, message in cases:
        with pytest.raises(InvalidInput, match=message):
            await _order(ids, holders, quantity)
    assert await Order.count() == 0 and await TicketHolder.count() == 0


async def test_one_id_holds_one_ticket_per_session_until_its_order_is_gone():
    ids = await sales_catalog()
    await staff()
    await _realname_ga(ids)
    first = await _order(ids, [Holder("王小明", resident_id(1))])
    orders, items = await Order.count(), await OrderItem.count()
    with pytest.raises(Conflict, match="already holds a ticket") as refused:
        await _order(ids, [Holder("王大明", resident_id(1))], channel="web_shop")
    assert refused.value.params["id"] == resident_id(1)[:4] + "**********" + resident_id(1)[-4:]
    assert (await Order.count(), await OrderItem.count()) == (orders, items)  # nothing written
    await cancel_order(SELLER, first.code, "buyer changed their mind")
    again = await _order(ids, [Holder("王小明", resident_id(1))])
    assert again.code != first.code
    # Another session is another matter: the same ID may hold one ticket there too.
    await realname.mark(SUPERVISOR, ids["seated_session"], approved_capacity=10, reserved=0)
    await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=ids["seats"][0])],
        holders=[Holder("王小明", resident_id(1))],
    )


async def test_concurrent_orders_for_one_id_sell_exactly_one_ticket():
    ids = await sales_catalog()
    await staff()
    await _realname_ga(ids)
    attempts = [
        _order(ids, [Holder(f"买家{i}", resident_id(7))], channel=("box_office", "web_shop", "partner")[i % 3])
        for i in range(8)
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    assert await TicketHolder.count() == 1 and await Order.count() == 1


async def test_the_gate_shows_the_holder_online_and_in_the_offline_snapshot():
    ids = await sales_catalog()
    await staff()
    await _realname_ga(ids)
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["ga_session"]
    )
    order = await _order(ids, [Holder("王小明", resident_id(1))])
    await confirm_window_payment(SELLER, order.code, "card", reference="88020461")
    ticket = await Ticket.select(Ticket.id, Ticket.code).where(Ticket.order.code == order.code).first()
    verdict = await redeem(ticket["code"], "P-1")
    masked = resident_id(1)[:4] + "**********" + resident_id(1)[-4:]
    assert verdict["status"] == "ok"
    assert verdict["ticket"]["holder"] == {"name": "王小明", "id_masked": masked}
    forget_cached()
    data = await snapshot(await gate_by_code("P-1"))
    assert data["holders"] == {str(ticket["id"]): {"name": "王小明", "id_masked": masked}}
    assert OfflineCache(data).holder(ticket["id"]) == {"name": "王小明", "id_masked": masked}
    assert resident_id(1) not in str(data)


async def test_compliance_share_on_public_sale_and_unbound_tickets_before_the_start():
    ids = await sales_catalog()
    await staff()
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=10)  # 80% public: too little
    (row,) = await realname.compliance()
    assert (row.public_percent, row.minimum_percent, row.public_ok) == (80.0, 85, False)
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=5)
    # A ticket sold before the session was marked has no holder: unbound, late once the start is within 24 h.
    await EventSession.update({EventSession.starts_at: utc(hours=20)}).where(EventSession.id == ids["ga_session"])
    await Order.raw("DELETE FROM inventory_realname_session").run()
    plain = await _order(ids, [], quantity=2)
    await realname.mark(SUPERVISOR, ids["ga_session"], approved_capacity=50, reserved=5)
    await confirm_window_payment(SELLER, plain.code, "card", reference="88020461")
    bound = await _order(ids, [Holder("王小明", resident_id(1))])
    await confirm_window_payment(SELLER, bound.code, "card", reference="88020461")
    (row,) = await realname.compliance()
    assert (row.public_percent, row.public_ok, row.unbound, row.unbound_late) == (90.0, True, 2, True)
    (row,) = await realname.compliance(now=row.deadline - dt.timedelta(hours=1))
    assert row.unbound == 2 and not row.unbound_late


def test_the_camera_client_screen_shows_the_holder():
    from scanner.verdict_ui import VerdictScreen

    verdict = {
        "status": "ok",
        "attention": False,
        "reason_code": "welcome",
        "reason_params": {},
        "ticket": {"seat": None, "class": "成人票", "holder": {"name": "王小明", "id_masked": "1101**********1234"}},
    }
    _, lines = VerdictScreen("zh_CN", size=(800, 480), sound=False).lines(verdict, offline=True)
    assert any("王小明" in text and "1101**********1234" in text and "持票人" in text for text, _ in lines)


async def test_an_exchanged_ticket_keeps_its_holder_and_the_id_stays_at_one_ticket():
    from db.sales.aftersale.exchanges import Target, exchange

    ids = await sales_catalog()
    await staff()
    await realname.mark(SUPERVISOR, ids["seated_session"], approved_capacity=10, reserved=0)
    vip = ids["vip_seats"]
    order = await create_order(
        ADMIN_ACTOR,
        session_id=ids["seated_session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=vip[0])],
        holders=[Holder("王小明", resident_id(1))],
    )
    await confirm_window_payment(SELLER, order.code, "card", reference="88020461")
    done = await exchange(
        SELLER, order.code, None, Target(ids["seated_session"], ids["vip_class"], (vip[1],)),
        channel="box_office", method="cash", deliver=False,
    )  # fmt: skip
    (new_id,) = done.new_ticket_ids
    assert await realname.holders_of_tickets([new_id]) == {
        new_id: {"name": "王小明", "id_masked": resident_id(1)[:4] + "**********" + resident_id(1)[-4:]}
    }
    live = await TicketHolder.count().where(TicketHolder.id_key.not_like("released:%"))
    assert live == 1
    with pytest.raises(Conflict, match="already holds"):
        await create_order(
            ADMIN_ACTOR,
            session_id=ids["seated_session"],
            channel="box_office",
            buyer=BUYER,
            items=[ItemRequest(seat_id=vip[2])],
            holders=[Holder("王小明", resident_id(1))],
        )
