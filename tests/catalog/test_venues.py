"""Venues and seat maps through the catalog pages (R3.1): CSV import, the drawn plan, gates, audit."""

from __future__ import annotations

import asyncio
import re

from db.audit.tables import AuditEntry
from db.catalog import operations as catalog
from db.catalog.tables import Gate, Seat, Venue
from db.core.errors import Conflict
from tests.helpers import ADMIN_ACTOR, SMALL_THEATRE_CSV, post_form, small_catalog

GOOD_CSV = (
    "section,row,number,seat_class,x,y\n"
    + "\n".join(f"池座,{r},{n},{'VIP' if r == 1 else 'A'},{n},{r}" for r in (1, 2, 3) for n in range(1, 9))
    + "\n"
)


async def test_catalog_pages_render_for_a_seller(seller):
    ids = await small_catalog()
    for url in (
        "/catalog/venues",
        f"/catalog/venues/{ids['theatre']}",
        f"/catalog/venues/{ids['park']}",
        "/catalog/events",
        "/catalog/events?kind=attraction",
        f"/catalog/events/{ids['show']}",
        f"/catalog/sessions/{ids['seated_session']}",
        f"/catalog/sessions/{ids['ga_session']}",
    ):
        response = await seller.get(url)
        assert response.status_code == 200, url
        assert "Traceback" not in response.text
    venues = (await seller.get("/catalog/venues")).text
    assert "测试剧场" in venues and "测试公园" in venues
    assert "新增场馆" not in venues  # a seller views; only catalog editors get the form


async def test_event_list_filters_by_kind(seller):
    await small_catalog()
    films = (await seller.get("/catalog/events?kind=attraction")).text
    assert "测试景区" in films and "测试演出" not in films
    # The HTMX filter gets only the table partial.
    partial = await seller.get("/catalog/events?kind=performance", headers={"hx-request": "true"})
    assert "测试演出" in partial.text and "测试景区" not in partial.text and "<html" not in partial.text


async def test_create_venue_with_pasted_csv_makes_every_seat_and_an_audit_entry(supervisor):
    response = await post_form(
        supervisor,
        "/catalog/venues",
        {"name": "新剧场", "city": "杭州", "address": "西湖区 1 号", "seat_csv": GOOD_CSV},
        follow_redirects=False,
    )
    assert response.status_code == 303
    venue = await Venue.objects().where(Venue.name == "新剧场").first()
    assert response.headers["location"] == f"/catalog/venues/{venue.id}"
    assert await Seat.count().where(Seat.venue == venue.id) == 24
    assert await Seat.count().where((Seat.venue == venue.id) & (Seat.seat_class == "VIP")) == 8
    entry = await AuditEntry.select().where(AuditEntry.action == "venue.create").output(load_json=True).first()
    assert entry["actor_name"] == "zhangwei" and entry["object_id"] == str(venue.id)
    assert entry["after"]["seats"] == 24
    page = (await supervisor.get(f"/catalog/venues/{venue.id}")).text
    assert len(re.findall(r'data-seat-id="\d+"', page)) == 24
    assert 'data-label="池座 3排8座"' in page and 'data-testid="seat-legend"' in page


async def test_create_venue_from_an_uploaded_csv_file(supervisor):
    from tests.helpers import fetch_csrf

    token = await fetch_csrf(supervisor)
    response = await supervisor.post(
        "/catalog/venues",
        data={"name": "上传剧场", "city": "上海", "address": "", "seat_csv": "", "_csrf_token": token},
        files={"seat_csv_file": ("seats.csv", ("\ufeff" + SMALL_THEATRE_CSV).encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    venue = await Venue.objects().where(Venue.name == "上传剧场").first()
    assert await Seat.count().where(Seat.venue == venue.id) == 10


async def _refused(client, csv_text: str) -> str:
    response = await post_form(client, "/catalog/venues", {"name": "坏剧场", "city": "上海", "seat_csv": csv_text})
    assert response.status_code == 422
    assert not await Venue.exists().where(Venue.name == "坏剧场")
    assert await Seat.count() == 0
    assert not await AuditEntry.exists().where(AuditEntry.action == "venue.create")
    assert 'data-testid="problems"' in response.text
    return response.text


async def test_malformed_csv_lists_every_bad_line_and_creates_nothing(supervisor):
    bad = (
        "section,row,number,seat_class,x,y\n"
        "池座,1,1,VIP,1,1\n"
        "池座,1,two,VIP,2,1\n"  # line 3: not a number
        "池座,1,1,VIP,3,1\n"  # line 4: repeats line 2
        "池座,1,4,VIP\n"  # line 5: too few columns
        "池座,1,5,VIP,5,-1\n"  # line 6: negative position
    )
    page = await _refused(supervisor, bad)
    assert "第 3 行：number、x 和 y 必须是整数" in page
    assert "第 4 行：座位 池座 1-1 与第 2 行重复" in page
    assert "第 5 行：应有 6 列，实际 4 列" in page
    assert "第 6 行" in page
    assert "座位图有 4 处错误" in page
    # What the user typed stays in the form to be corrected.
    assert "池座,1,two,VIP,2,1" in page


async def test_csv_with_a_wrong_header_is_refused(supervisor):
    page = await _refused(supervisor, "block,row,seat,class,x,y\nA,1,1,VIP,1,1\n")
    assert "第 1 行：表头必须是 section,row,number,seat_class,x,y" in page


async def test_gates_are_added_on_the_venue_page_and_codes_stay_unique(supervisor):
    venue = await catalog.create_venue(ADMIN_ACTOR, "体育馆", "南京")
    ok = await post_form(
        supervisor, f"/catalog/venues/{venue}/gates", {"code": "e-1", "name": "东门"}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert (await Gate.objects().where(Gate.venue == venue).first()).code == "E-1"
    taken = await post_form(supervisor, f"/catalog/venues/{venue}/gates", {"code": "E-1", "name": "又一个东门"})
    assert taken.status_code == 409 and "检票口编号 E-1 已被使用" in taken.text
    assert await Gate.count() == 1
    assert await AuditEntry.count().where(AuditEntry.action == "gate.create") == 1


async def test_concurrent_venues_with_one_name_make_one_venue(supervisor):
    results = await asyncio.gather(
        *[catalog.create_venue(ADMIN_ACTOR, "同名场馆", "上海", "", SMALL_THEATRE_CSV) for _ in range(6)],
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int))
    assert await Venue.count() == 1 and await Seat.count() == 10


async def test_seller_cannot_create_a_venue(seller):
    response = await post_form(seller, "/catalog/venues", {"name": "偷建场馆", "city": "上海"})
    assert response.status_code == 403
    assert not await Venue.exists()


async def test_seat_map_is_loaded_later_and_refused_once_sessions_sell_it(supervisor):
    ids = await small_catalog()
    park_page = await post_form(
        supervisor, f"/catalog/venues/{ids['park']}/seats", {"seat_csv": GOOD_CSV}, follow_redirects=False
    )
    assert park_page.status_code == 303
    assert await Seat.count().where(Seat.venue == ids["park"]) == 24
    entry = await AuditEntry.select().where(AuditEntry.action == "venue.seat_map").output(load_json=True).first()
    assert entry["before"] == {"seats": 0} and entry["after"] == {"seats": 24}

    bad = await post_form(
        supervisor, f"/catalog/venues/{ids['park']}/seats", {"seat_csv": GOOD_CSV + "池座,9,1,VIP,1\n"}
    )
    assert bad.status_code == 422 and "第 26 行" in bad.text
    assert await Seat.count().where(Seat.venue == ids["park"]) == 24

    selling = await post_form(supervisor, f"/catalog/venues/{ids['theatre']}/seats", {"seat_csv": GOOD_CSV})
    assert selling.status_code == 409 and "已有场次在销售此座位图" in selling.text
    assert await Seat.count().where(Seat.venue == ids["theatre"]) == 10
