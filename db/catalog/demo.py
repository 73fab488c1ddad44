"""Demo catalog: a theatre with a seat map, a cinema hall, a stadium section, a whole arena (its plan opens on the
section overview) and an attraction, with events of every kind, sessions, prices and gates. General admission:
one class of exactly 1,000 tickets (the on-sale benchmark's session) and well over 12,000 tickets across the
attraction's days. `arena_seats` also makes the 50,000-seat stadium of bench/seat_plan.py."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from db.catalog.operations import (
    PriceClassSpec,
    SessionSpec,
    add_gate,
    create_event,
    create_session,
    create_venue,
    schedule_price_change,
)
from db.catalog.tables import PriceClass, Venue
from db.core.actor import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
BENCH_EVENT = "草莓音乐节·草坪专场"
TOKYO_VENUE = "东京国际论坛"  # the general-admission session with exactly 1,000 tickets


def _csv(rows: list[tuple[str, str, int, str, int, int]]) -> str:
    return "section,row,number,seat_class,x,y\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"


def theatre_seats() -> str:
    """池座 rows 1-15 (VIP in rows 1-5, A in 6-15), 楼座 rows 1-8 (B); 30 seats a row = 690 seats."""
    rows = []
    for r in range(1, 16):
        for n in range(1, 31):
            rows.append(("池座", str(r), n, "VIP" if r <= 5 else "A", n + (1 if n > 15 else 0), r))
    for r in range(1, 9):
        for n in range(1, 31):
            rows.append(("楼座", str(r), n, "B", n + (1 if n > 15 else 0), 17 + r))
    return _csv(rows)


def cinema_seats() -> str:
    rows = []
    for i, r in enumerate("ABCDEFGHJK"):
        for n in range(1, 15):
            rows.append(("1号厅", r, n, "标准" if i < 8 else "情侣", n + (1 if n > 7 else 0), i))
    return _csv(rows)


def stadium_seats() -> str:
    rows = []
    for block, offset in (("A1", 0), ("A2", 22)):
        for r in range(1, 11):
            for n in range(1, 21):
                rows.append((block, str(r), n, "看台一等" if r <= 4 else "看台二等", offset + n, r))
    return _csv(rows)


ARENA_PRICES = [
    PriceClassSpec("一等看台", 48000, "A"),
    PriceClassSpec("二等看台", 28000, "B"),
    PriceClassSpec("三等看台", 18000, "C"),
]


def arena_seats(rows: int = 25, seats: int = 50, per_stand: int = 10) -> str:
    """A stadium around a field: four stands of `per_stand` sections each, every section `rows` x `seats`
    (the two end stands' sections are half as wide and twice as deep), so 4 * per_stand * rows * seats seats
    (50,000 by default). Sections N1.., S1.. (the long stands: the middle ones class A, the rest B), W1.., E1..
    (the ends: class C); a two-unit aisle between sections."""
    gap, end_w, end_h = 2, seats // 2, rows * 2
    long = per_stand * (seats + gap) - gap
    side = per_stand * (end_h + gap) - gap
    left, top = end_w + gap, rows + gap
    middle = range(per_stand // 2 - max(1, per_stand // 5), per_stand // 2 + max(1, per_stand // 5))
    out = []
    for i in range(per_stand):
        x0 = left + i * (seats + gap)
        for stand, y0, front in (("N", 0, rows - 1), ("S", top + side + gap, 0)):
            for r in range(1, rows + 1):
                y = y0 + (front - (r - 1) if stand == "N" else r - 1)
                for n in range(1, seats + 1):
                    out.append((f"{stand}{i + 1}", str(r), n, "A" if i in middle else "B", x0 + n - 1, y))
        y0 = top + i * (end_h + gap)
        for stand, x0 in (("W", 0), ("E", left + long + gap)):
            for r in range(1, end_h + 1):
                for n in range(1, end_w + 1):
                    out.append((f"{stand}{i + 1}", str(r), n, "C", x0 + n - 1, y0 + r - 1))
    return _csv(out)


def at(days: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    """`days` from today at `hour`:`minute` on the venue's clock (`zone`), as UTC."""
    base = dt.datetime.now(zone).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (base + dt.timedelta(days=days)).astimezone(dt.UTC)


async def _venue(
    actor: Actor,
    name: str,
    city: str,
    address: str,
    seats: str | None,
    gates: list[tuple[str, str]],
    zone: ZoneInfo = SHANGHAI,
) -> tuple[int, list[int]]:
    venue_id = await create_venue(actor, name, city, address, seats, zone.key)
    gate_ids = [await add_gate(actor, venue_id, code, gname) for code, gname in gates]
    return venue_id, gate_ids


async def load(actor: Actor) -> None:
    await _tokyo(actor)
    if await Venue.exists().where(Venue.name == "滨江大剧院"):
        return
    theatre, theatre_gates = await _venue(
        actor, "滨江大剧院", "上海", "浦东新区滨江大道 1288 号", theatre_seats(), [("BJ-N", "北门"), ("BJ-S", "南门")]
    )
    cinema, cinema_gates = await _venue(
        actor,
        "光影国际影城",
        "上海",
        "徐汇区漕溪北路 398 号",
        cinema_seats(),
        [("GY-1", "1号厅入口"), ("GY-2", "VIP 通道")],
    )
    stadium, stadium_gates = await _venue(
        actor,
        "奥体中心体育场",
        "南京",
        "建邺区江东中路 222 号",
        stadium_seats(),
        [("AT-E1", "东1检票口"), ("AT-E2", "东2检票口"), ("AT-W1", "西1检票口")],
    )
    arena, arena_gates = await _venue(
        actor,
        "江城体育中心",
        "武汉",
        "东西湖区金银潭大道 8 号",
        arena_seats(rows=5, seats=16),  # 3,200 seats in 40 sections: more than the plan shows at once
        [("JC-N", "北检票口"), ("JC-S", "南检票口")],
    )
    park, park_gates = await _venue(
        actor, "明城墙景区", "南京", "秦淮区中华门", None, [("MC-1", "中华门入口"), ("MC-2", "解放门入口")]
    )

    opera = await create_event(actor, "歌剧《茶花女》", "performance", "威尔第经典歌剧，意大利语演唱，中文字幕。", 165)
    drama = await create_event(actor, "话剧《雷雨》", "performance", "曹禺经典话剧。", 150)
    film = await create_event(actor, "流浪地球 3", "film", "科幻巨制，IMAX 版本。", 150)
    match = await create_event(actor, "中超联赛：南京城市 vs 上海申花", "sport", "2026 赛季第 30 轮。", 120)
    derby = await create_event(actor, "中超联赛：武汉三镇 vs 北京国安", "sport", "2026 赛季第 31 轮。", 120)
    festival = await create_event(actor, BENCH_EVENT, "performance", "户外音乐节，草坪站票，不设座位。", 240)
    walls = await create_event(actor, "明城墙景区门票", "attraction", "登城游览，当日有效。", 480)

    theatre_classes = [
        PriceClassSpec("VIP", 128000, "VIP"),
        PriceClassSpec("甲等", 68000, "A"),
        PriceClassSpec("乙等", 28000, "B"),
    ]
    for days, event in ((3, opera), (4, opera), (10, drama)):
        await create_session(
            actor, SessionSpec(event, theatre, at(days, 19, 30), at(days, 22, 15), theatre_classes, theatre_gates)
        )
    for days, hour in ((1, 14), (1, 19), (2, 19)):
        await create_session(
            actor,
            SessionSpec(
                film,
                cinema,
                at(days, hour),
                at(days, hour + 2, 30),
                [PriceClassSpec("标准座", 6000, "标准"), PriceClassSpec("情侣座", 15000, "情侣")],
                cinema_gates,
            ),
        )
    await create_session(
        actor,
        SessionSpec(
            match,
            stadium,
            at(6, 19, 35),
            at(6, 21, 35),
            [
                PriceClassSpec("看台一等", 38000, "看台一等"),
                PriceClassSpec("看台二等", 18000, "看台二等"),
                PriceClassSpec("站票", 8000, "", 2000),
            ],
            stadium_gates,
            reentry_allowed=True,
        ),
    )
    await create_session(actor, SessionSpec(derby, arena, at(8, 19, 35), at(8, 21, 35), ARENA_PRICES, arena_gates))
    await create_session(
        actor,
        SessionSpec(
            festival, stadium, at(13, 15), at(13, 22), [PriceClassSpec("草坪票", 39900, "", 1000)], stadium_gates
        ),
    )
    for days in range(0, 8):
        await create_session(
            actor,
            SessionSpec(
                walls,
                park,
                at(days, 8, 30),
                at(days, 22),
                [PriceClassSpec("成人票", 5000, "", 1600), PriceClassSpec("儿童票", 2500, "", 400)],
                park_gates,
                reentry_allowed=True,
                admission_opens_at=at(days, 8, 30),
                admission_closes_at=at(days, 21),
            ),
        )
    # A scheduled price change with its public notice (R3.2).
    vip = (
        await PriceClass.select(PriceClass.id)
        .where((PriceClass.name == "VIP") & (PriceClass.session.event == opera))
        .first()
    )
    await schedule_price_change(
        actor, vip["id"], 118000, at(2, 0), "自后日零时起，《茶花女》VIP 票价由 1280 元调整为 1180 元。"
    )


async def _tokyo(actor: Actor) -> None:
    """A venue outside China, on its own clock (Asia/Tokyo, an hour ahead of Shanghai): its sessions show in
    Tokyo time everywhere (issue 15). Added to an older demo database too."""
    if await Venue.exists().where(Venue.name == TOKYO_VENUE):
        return
    tokyo = ZoneInfo("Asia/Tokyo")
    venue, gates = await _venue(actor, TOKYO_VENUE, "东京", "千代田区丸之内 3-5-1", None, [("TK-A", "A 入口")], tokyo)
    concert = await create_event(actor, "久石让电影音乐会·东京站", "performance", "东京国际论坛 A 厅，全场站席。", 150)
    for days in (5, 6):
        await create_session(
            actor,
            SessionSpec(
                concert,
                venue,
                at(days, 19, 0, tokyo),
                at(days, 21, 30, tokyo),
                [PriceClassSpec("S 席", 98000, "", 300), PriceClassSpec("A 席", 58000, "", 500)],
                gates,
            ),
        )


async def bench_session_id() -> int | None:
    """The id of the 1,000-ticket general-admission session used by the on-sale benchmark."""
    row = await PriceClass.select(PriceClass.session).where(PriceClass.session.event.name == BENCH_EVENT).first()
    return row["session"] if row else None
