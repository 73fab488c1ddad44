"""Obstructed-view seats (issue 11; 2025 performance-service standard): settable in the seat-map CSV, shown
as such to buyers on the shop's and the box office's seat plan (a mark and a legend line), and refunded
without a fee."""

from __future__ import annotations

import pytest

from db.catalog import operations as catalog
from db.catalog.seatmap import SeatMapError, parse_seat_csv
from db.catalog.tables import Seat, SessionSeat
from db.sales.aftersale.refunds import quote_refund
from tests.aftersale.support import paid_seats, staff
from tests.helpers import ADMIN_ACTOR, PASSWORD, http_client, sign_in
from tests.sales.support import sales_catalog
from tests.shop.support import shop_client

HEADER = "section,row,number,seat_class,x,y,obstructed\n"


def test_the_csv_takes_an_optional_obstructed_column():
    seats = parse_seat_csv(HEADER + "池座,1,1,VIP,1,1,1\n池座,1,2,VIP,2,1,\n楼座,1,1,B,1,9,是\n楼座,1,2,B,2,9,no\n")
    assert [s.obstructed for s in seats] == [True, False, True, False]
    assert not parse_seat_csv("section,row,number,seat_class,x,y\n池座,1,1,VIP,1,1\n")[0].obstructed
    with pytest.raises(SeatMapError) as refused:
        parse_seat_csv(HEADER + "池座,1,1,VIP,1,1,maybe\n池座,1,2,VIP,2,1\n")
    assert [(p.line, p.message) for p in refused.value.problems] == [
        (2, "obstructed must be 1 or 0 (yes or no)"),
        (3, "expected {expected} columns, found {found}"),
    ]


async def test_imported_obstructed_seats_are_marked_for_buyers_and_refunded_without_fee():
    ids = await sales_catalog()
    await staff()
    csv_text = HEADER + "".join(
        f"池座,{r},{n},{'VIP' if r == 1 else 'A'},{n},{r},{1 if (r, n) == (2, 5) else 0}\n"
        for r in (1, 2)
        for n in range(1, 6)
    )
    venue = await catalog.create_venue(ADMIN_ACTOR, "柱后剧场", "上海", "", csv_text)
    pillar = await Seat.select(Seat.id).where((Seat.venue == venue) & (Seat.obstructed == True)).first()  # noqa: E712
    assert pillar is not None
    # the test theatre's own seat 池座 2排5座 is behind a pillar too
    seat = (
        await Seat.select(Seat.id)
        .where((Seat.venue == ids["theatre"]) & (Seat.row_label == "2") & (Seat.number == 5))
        .first()
    )
    await Seat.update({Seat.obstructed: True}).where(Seat.id == seat["id"])
    async with shop_client() as buyer:
        page = await buyer.get(f"/shop/sessions/{ids['seated_session']}")
        assert 'data-testid="legend-obstructed"' in page.text
        assert f'data-seat-id="{seat["id"]}" data-obstructed="1"' in page.text
    async with http_client() as seller:
        await sign_in(seller, "lina", PASSWORD)
        box = await seller.get(f"/sales/sessions/{ids['seated_session']}")
        assert 'data-testid="legend-obstructed"' in box.text and 'data-obstructed="1"' in box.text
    code = await paid_seats(ids, [seat["id"]])
    q = await quote_refund(code)
    assert q.allowed and q.fee_fen == 0 and q.lines[0].basis == "obstructed"
    assert await SessionSeat.count().where(SessionSeat.seat == seat["id"]) == 1
