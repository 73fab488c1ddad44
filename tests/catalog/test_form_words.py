"""The catalog forms' words (issue 15): every refusal of a form at once, each bad field marked, a length limit
on every free-text field with a message that says it, and a venue's time zone chosen with the venue."""

from __future__ import annotations

import html
import re

from db.audit.tables import AuditEntry
from db.catalog.tables import Event, EventSession, Venue
from tests.helpers import post_form, small_catalog


def problems(page: str) -> list[str]:
    box = re.search(r'data-testid="problems">(.*?)</ul>', page, re.S)
    assert box, "no list of problems on the page"
    return [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", box.group(1))]


async def test_the_event_form_shows_every_refusal_at_once_and_limits_the_description(supervisor):
    data = {"name": "", "kind": "opera", "description": "长" * 6000, "duration_minutes": "2000"}
    audited = await AuditEntry.count()
    response = await post_form(supervisor, "/catalog/events", data)
    assert response.status_code == 422
    assert "请更正以下 4 处：" in response.text
    assert problems(response.text) == [
        "请输入活动名称（最多 120 个字符）。",
        "请选择活动类型。",
        "此处最多 2000 个字符（已输入 6000 个）。",
        "时长须在 1 到 1440 分钟之间。",
    ]
    form = response.text[response.text.index('id="new-event"') :]
    for field in ("name", "kind", "description", "duration_minutes"):
        tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{field}"[^>]*>', form).group(0)
        assert 'aria-invalid="true"' in tag, field
    assert await Event.count() == 0 and await AuditEntry.count() == audited

    client_english = {**data, "name": "Traviata", "kind": "performance", "duration_minutes": "150"}
    supervisor.cookies.set("lang", "en")
    one = await post_form(supervisor, "/catalog/events", client_english)
    assert one.status_code == 422 and "At most 2000 characters here (6000 entered)." in one.text
    assert await Event.count() == 0
    fine = await post_form(supervisor, "/catalog/events", {**client_english, "description": "长" * 2000})
    assert fine.status_code == 303 and await Event.count() == 1


async def test_a_venue_refuses_all_its_bad_fields_at_once_and_keeps_its_time_zone(supervisor):
    response = await post_form(supervisor, "/catalog/venues", {"name": "", "city": "", "address": "路" * 201})
    assert response.status_code == 422
    assert problems(response.text) == [
        "请输入场馆名称。",
        "请输入场馆所在城市。",
        "此处最多 200 个字符（已输入 201 个）。",
    ]
    assert await Venue.count() == 0
    made = await post_form(
        supervisor, "/catalog/venues", {"name": "东京国际论坛", "city": "东京", "timezone": "Asia/Tokyo"}
    )
    assert made.status_code == 303
    assert (await Venue.select(Venue.timezone).first())["timezone"] == "Asia/Tokyo"
    listing = (await supervisor.get("/catalog/venues")).text
    assert "<td>东京</td>" in listing
    bad_zone = await post_form(supervisor, "/catalog/venues", {"name": "某馆", "city": "某地", "timezone": "Mars/Base"})
    assert bad_zone.status_code == 422 and "未知的时区：Mars/Base" in bad_zone.text


async def test_a_session_form_lists_every_bad_price_row(supervisor):
    ids = await small_catalog()
    data = {
        "venue_id": str(ids["park"]),
        "starts_at": "2027-02-01T09:00",
        "ends_at": "soon",
        "pc_name_0": "成人票",
        "pc_capacity_0": "100",
        "pc_price_0": "-5",
        "pc_name_1": "儿童票",
        "pc_capacity_1": "50",
        "pc_price_1": "",
    }
    response = await post_form(supervisor, f"/catalog/events/{ids['walk']}/sessions", data)
    assert response.status_code == 422
    found = problems(response.text)
    assert len(found) == 3 and "请为 儿童票 输入价格。" in found
    assert any("价格不能低于零" in p for p in found)
    for field in ("ends_at", "pc_price_0", "pc_price_1"):
        tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', response.text).group(0)
        assert 'aria-invalid="true"' in tag, field
    assert await EventSession.count() == 2  # the catalog's own two
