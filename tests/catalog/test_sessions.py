"""Sessions and prices through the catalog pages (R3.1, R3.2): times typed in venue local time, prices
typed in yuan and kept in exact fen, overlaps refused, price changes announced ahead and withdrawable."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from db.audit.tables import AuditEntry
from db.catalog import operations as catalog
from db.catalog.tables import EventSession, PriceChange, PriceClass, SessionSeat
from db.core.errors import Conflict
from tests.helpers import ADMIN_ACTOR, post_form, small_catalog, utc

UTC = dt.UTC


def _form(venue: int, starts: str, ends: str, rows: list[tuple[str, str, str, str]], gates: list[int] = ()) -> dict:
    data = {"venue_id": str(venue), "starts_at": starts, "ends_at": ends, "gate_ids": [str(g) for g in gates]}
    for i, (name, seat_class, capacity, price) in enumerate(rows):
        data |= {
            f"pc_name_{i}": name,
            f"pc_seat_class_{i}": seat_class,
            f"pc_capacity_{i}": capacity,
            f"pc_price_{i}": price,
        }
    return data


async def test_new_session_form_offers_the_venues_seat_classes_and_gates(supervisor):
    ids = await small_catalog()
    page = (await supervisor.get(f"/catalog/events/{ids['show']}/sessions/new?venue_id={ids['theatre']}")).text
    assert '<option value="VIP"' in page and '<option value="A"' in page
    assert f'name="gate_ids" value="{ids["gates"][0]}"' in page
    partial = await supervisor.get(
        f"/catalog/events/{ids['show']}/sessions/new?venue_id={ids['park']}", headers={"hx-request": "true"}
    )
    assert 'data-testid="session-form"' in partial.text and "<html" not in partial.text
    assert f'value="{ids["park_gate"]}"' in partial.text


async def test_create_session_converts_local_time_and_yuan_exactly(supervisor):
    ids = await small_catalog()
    data = _form(
        ids["theatre"],
        "2027-01-15T19:30",
        "2027-01-15T22:00",
        [("贵宾", "VIP", "", "12.5"), ("甲等", "A", "", "0.1"), ("站票", "", "30", "1,280.05"), ("", "", "", "")],
        ids["gates"],
    )
    response = await post_form(supervisor, f"/catalog/events/{ids['show']}/sessions", data, follow_redirects=False)
    assert response.status_code == 303, response.text
    session_id = int(response.headers["location"].rsplit("/", 1)[1])
    session = await EventSession.objects().where(EventSession.id == session_id).first()
    assert session.starts_at == dt.datetime(2027, 1, 15, 11, 30, tzinfo=UTC)  # Asia/Shanghai is UTC+8
    assert session.ends_at == dt.datetime(2027, 1, 15, 14, 0, tzinfo=UTC)
    prices = {p["name"]: p for p in await PriceClass.select().where(PriceClass.session == session_id)}
    assert (
        prices["贵宾"]["price_fen"] == 1250
        and prices["甲等"]["price_fen"] == 10
        and prices["站票"]["price_fen"] == 128005
    )
    assert prices["站票"]["capacity"] == 30 and prices["站票"]["available"] == 30
    assert await SessionSeat.count().where(SessionSeat.session == session_id) == 10
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "session.create") & (AuditEntry.object_id == str(session_id))
    )
    page = (await supervisor.get(f"/catalog/sessions/{session_id}")).text
    assert "¥12.50" in page and "¥1,280.05" in page and "2027-01-15 19:30" in page


async def test_negative_or_malformed_price_is_an_on_page_error_and_changes_nothing(supervisor):
    ids = await small_catalog()
    before = (await EventSession.count(), await AuditEntry.count())
    for price, message in (
        ("-5", "价格不能低于零"),
        ("12.345", "请以元为单位输入价格"),
        ("abc", "请以元为单位输入价格"),
    ):
        data = _form(ids["park"], "2027-02-01T09:00", "2027-02-01T17:00", [("成人票", "", "100", price)])
        response = await post_form(supervisor, f"/catalog/events/{ids['walk']}/sessions", data)
        assert response.status_code == 422
        assert 'data-testid="form-error"' in response.text and message in response.text
        assert f'name="pc_price_0" value="{price}"' in response.text  # the typed value stays for correction
        assert 'aria-invalid="true"' in response.text
    assert (await EventSession.count(), await AuditEntry.count()) == before


async def test_overlapping_session_is_refused_with_the_clash_named(supervisor):
    ids = await small_catalog()  # the park session runs from utc(days=1) for 8 hours
    clash = (utc(days=1, hours=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    data = _form(
        ids["park"],
        clash.strftime("%Y-%m-%dT%H:%M"),
        (clash + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        [("成人票", "", "100", "50")],
    )
    counts = (await EventSession.count(), await PriceClass.count())
    response = await post_form(supervisor, f"/catalog/events/{ids['walk']}/sessions", data)
    assert response.status_code == 409
    assert "该场馆在" in response.text and "已有其他场次" in response.text
    assert (await EventSession.count(), await PriceClass.count()) == counts


async def test_concurrent_sessions_in_one_slot_leave_exactly_one(supervisor):
    ids = await small_catalog()
    spec = catalog.SessionSpec(
        ids["walk"], ids["theatre"], utc(days=20), utc(days=20, hours=3), [catalog.PriceClassSpec("VIP", 100, "VIP")]
    )
    results = await asyncio.gather(
        *[catalog.create_session(ADMIN_ACTOR, spec) for _ in range(8)], return_exceptions=True
    )
    created = [r for r in results if isinstance(r, int)]
    assert len(created) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int))
    assert await SessionSeat.count().where(SessionSeat.session == created[0]) == 5


async def _vip(ids: dict) -> dict:
    return (
        await PriceClass.select()
        .where((PriceClass.session == ids["seated_session"]) & (PriceClass.name == "VIP"))
        .first()
    )


async def test_price_change_in_the_past_is_refused(supervisor):
    ids = await small_catalog()
    vip = await _vip(ids)
    past = (utc(hours=-1)).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M")
    response = await post_form(
        supervisor,
        f"/catalog/sessions/{ids['seated_session']}/price-changes",
        {"price_class_id": str(vip["id"]), "price": "400", "effective_at": past, "notice": "降价"},
    )
    assert response.status_code == 422 and "调价必须在将来生效" in response.text
    assert await PriceChange.count() == 0


async def test_price_change_without_a_notice_is_refused(supervisor):
    ids = await small_catalog()
    vip = await _vip(ids)
    response = await post_form(
        supervisor,
        f"/catalog/sessions/{ids['seated_session']}/price-changes",
        {"price_class_id": str(vip["id"]), "price": "400", "effective_at": "2030-01-01T00:00", "notice": "  "},
    )
    assert response.status_code == 422 and "请填写公告调价的公示内容" in response.text
    assert await PriceChange.count() == 0


async def test_future_price_change_keeps_the_old_price_until_its_time_and_shows_the_notice(supervisor):
    ids = await small_catalog()
    vip = await _vip(ids)
    effective = utc(days=2).replace(second=0)
    local = effective.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M")
    response = await post_form(
        supervisor,
        f"/catalog/sessions/{ids['seated_session']}/price-changes",
        {
            "price_class_id": str(vip["id"]),
            "price": "450.50",
            "effective_at": local,
            "notice": "VIP 票价调整为 450.5 元",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    change = await PriceChange.objects().where(PriceChange.price_class == vip["id"]).first()
    assert change.effective_at == effective and change.price_fen == 45050

    def price_of(prices):
        return next(p for p in prices if p["id"] == vip["id"])

    before = price_of(await catalog.session_prices(ids["seated_session"], when=effective - dt.timedelta(seconds=1)))
    after = price_of(await catalog.session_prices(ids["seated_session"], when=effective))
    assert before["price_fen"] == 50000 and [c.price_fen for c in before["upcoming_changes"]] == [45050]
    assert after["price_fen"] == 45050 and after["upcoming_changes"] == []

    page = (await supervisor.get(f"/catalog/sessions/{ids['seated_session']}")).text
    assert 'data-testid="price-notice"' in page and "VIP 票价调整为 450.5 元" in page
    assert "¥450.50" in page and "¥500.00" in page
    entry = await AuditEntry.select().where(AuditEntry.action == "price.schedule").output(load_json=True).first()
    assert entry["before"] == {"price_fen": 50000} and entry["after"]["price_fen"] == 45050


async def test_withdrawing_an_announced_change(supervisor):
    ids = await small_catalog()
    vip = await _vip(ids)
    change_id = await catalog.schedule_price_change(ADMIN_ACTOR, vip["id"], 40000, utc(days=1), "VIP 降价至 400 元")
    url = f"/catalog/sessions/{ids['seated_session']}/price-changes/{change_id}/withdraw"
    response = await post_form(supervisor, url, {}, follow_redirects=False)
    assert response.status_code == 303
    assert (await PriceChange.objects().where(PriceChange.id == change_id).first()).cancelled
    page = (await supervisor.get(f"/catalog/sessions/{ids['seated_session']}")).text
    assert 'data-testid="price-notice"' not in page and "已撤回" in page
    assert (await catalog.session_prices(ids["seated_session"], when=utc(days=2)))[0]["price_fen"] == 50000
    assert await AuditEntry.exists().where(AuditEntry.action == "price.cancel")
    again = await post_form(supervisor, url, {})
    assert again.status_code == 409 and "只能撤回尚未生效的调价" in again.text


async def test_a_change_in_force_cannot_be_withdrawn():
    ids = await small_catalog()
    vip = await _vip(ids)
    change_id = await catalog.schedule_price_change(
        ADMIN_ACTOR, vip["id"], 40000, utc(hours=1), "VIP 降价", now=utc(hours=-1)
    )
    try:
        await catalog.cancel_price_change(ADMIN_ACTOR, change_id, now=utc(hours=2))
    except Conflict:
        pass
    else:
        raise AssertionError("a change in force was withdrawn")
    assert not (await PriceChange.objects().where(PriceChange.id == change_id).first()).cancelled


async def test_price_changes_need_the_price_permission(supervisor):
    from tests.helpers import http_client, make_staff, sign_in

    ids = await small_catalog()
    vip = await _vip(ids)
    await make_staff("admin", "liuyang")  # may edit the catalog, not prices
    async with http_client() as admin:
        await sign_in(admin, "liuyang")
        page = (await admin.get(f"/catalog/sessions/{ids['seated_session']}")).text
        assert "安排调价" not in page
        response = await post_form(
            admin,
            f"/catalog/sessions/{ids['seated_session']}/price-changes",
            {"price_class_id": str(vip["id"]), "price": "1", "effective_at": "2030-01-01T00:00", "notice": "x"},
        )
        assert response.status_code == 403
    assert await PriceChange.count() == 0


async def test_the_administrator_may_not_set_a_new_sessions_prices(supervisor):
    """Decision (issue 9): a session's first prices need the price permission, like a price change (R3.2,
    R2.2); the administrator keeps the catalog's structure (venues, seat maps, gates, events)."""
    from db.catalog import operations
    from db.catalog.tables import EventSession
    from db.core.actor import Actor
    from db.core.errors import PermissionDenied
    from tests.helpers import http_client, make_staff, sign_in, utc

    ids = await small_catalog()
    await make_staff("admin", "liuyang")
    async with http_client() as admin:
        await sign_in(admin, "liuyang")
        event_page = (await admin.get(f"/catalog/events/{ids['walk']}")).text
        assert f"/catalog/events/{ids['walk']}/sessions/new" not in event_page
        assert (await admin.get(f"/catalog/events/{ids['walk']}/sessions/new")).status_code == 403
        form = {"venue_id": str(ids["park"]), "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T12:00"}
        form |= {"pc_name_0": "成人票", "pc_seat_class_0": "", "pc_capacity_0": "10", "pc_price_0": "50"}
        assert (await post_form(admin, f"/catalog/events/{ids['walk']}/sessions", form)).status_code == 403
    before = await EventSession.count()
    spec = operations.SessionSpec(
        ids["walk"],
        ids["park"],
        utc(days=40),
        utc(days=40, hours=2),
        [operations.PriceClassSpec("成人票", 5000, "", 5)],
        [],
    )
    with pytest.raises(PermissionDenied):
        await operations.create_session(Actor(None, "liuyang", "admin"), spec)
    assert await EventSession.count() == before
