"""A stadium's plan (issue 15, R3.4 step 2): above OVERVIEW_ABOVE seats the box office and the shop first draw
the section overview, each section coloured by what is left, then the chosen section's seats only; a pick may
span sections (the picks elsewhere ride along); the best seats together open their own section; the legend
names the classes as the prices do (一等看台), not by their codes."""

from __future__ import annotations

import json
import re

from db.catalog.tables import PriceClass
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.queries import OVERVIEW_ABOVE, plan_view
from db.staff.permissions import Role
from tests.helpers import ADMIN_ACTOR, http_client, post_form
from tests.sales.support import BUYER, arena_session
from tests.sales.ui_support import HX, staff_client

SEAT = re.compile(r'class="seat seat-c\d (free|held|sold)[^"]*"[^>]*data-seat-id="(\d+)"')


async def _hold(session: int, seats: list[int]) -> None:
    await create_order(
        ADMIN_ACTOR,
        session_id=session,
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(seat_id=s) for s in seats],
    )


async def test_a_stadium_opens_on_its_sections_then_draws_the_chosen_one():
    ids = await arena_session()
    session, sections = ids["session"], ids["sections"]
    assert sum(map(len, sections.values())) == 3200 > OVERVIEW_ABOVE and len(sections) == 40
    await _hold(session, sections["N1"][:70])  # 10 of 80 left: "few"
    await _hold(session, sections["N2"][:1])

    plan = await plan_view(session)
    assert plan.seats == [] and plan.section is None and len(plan.sections) == 40
    free = {s.name: (s.free, s.seats) for s in plan.sections}
    assert free["N1"] == (10, 80) and free["N2"] == (79, 80) and free["E3"] == (80, 80)

    async with staff_client(Role.SELLER, "seller1") as client:
        page = await client.get(f"/sales/sessions/{session}")
        assert page.status_code == 200 and 'data-testid="plan-overview"' in page.text
        assert not SEAT.search(page.text)  # no seat drawn before a section is chosen
        assert re.search(r'class="plan-section left-few"[^>]*data-section="N1"', page.text, re.S)
        assert re.search(r'class="plan-section left-many"[^>]*data-section="N2"', page.text, re.S)

        elsewhere = sections["S1"][5]
        part = await client.get(
            f"/sales/sessions/{session}/plan", params={"section": "N2", "seat_id": [elsewhere]}, headers=HX
        )
        drawn = SEAT.findall(part.text)
        assert {int(seat) for _, seat in drawn} == set(sections["N2"])
        assert [state for state, _ in drawn].count("held") == 1
        assert re.search(r'aria-pressed="true"[^>]*data-section="N2"', part.text, re.S)
        assert f'class="kept-seat" name="seat_id" value="{elsewhere}"' in part.text  # the pick in S1 rides along
        legend = part.text[part.text.index('data-testid="seat-legend"') :]
        assert "二等看台 <small>(80)</small>" in legend and "B <small>" not in legend

        best_a = {"best_class": await _class_id(session, "A"), "best_n": "3"}
        best = await client.get(f"/sales/sessions/{session}/plan", params=best_a, headers=HX)
        keep = json.loads(re.search(r'data-keep="([^"]*)"', best.text).group(1).replace("&#34;", '"'))
        home = next(name for name, seats in sections.items() if keep[0] in seats)
        assert len(keep) == 3 and set(keep) <= set(sections[home])
        assert {int(seat) for _, seat in SEAT.findall(best.text)} == set(sections[home])

        picks = {"seat_id": [sections["N2"][10], elsewhere]}
        details = await post_form(client, f"/sales/sessions/{session}/order/details", picks, headers=HX)
        assert details.status_code == 200 and 'data-testid="order-details"' in details.text
        assert details.text.count('type="hidden" name="seat_id"') == 2  # one order, two sections

    async with http_client() as shop:
        page = await shop.get(f"/shop/sessions/{session}")
        assert 'data-testid="plan-overview"' in page.text and not SEAT.search(page.text)
        part = await shop.get(f"/shop/sessions/{session}/plan", params={"section": "E3"}, headers=HX)
        assert len(re.findall(r'<input type="checkbox" name="seat_id"', part.text)) == 80
        assert "三等看台 <small>(80)</small>" in part.text


async def _class_id(session: int, code: str) -> int:
    row = (
        await PriceClass.select(PriceClass.id)
        .where((PriceClass.session == session) & (PriceClass.seat_class == code))
        .first()
    )
    return row["id"]
