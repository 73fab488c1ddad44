"""Sales reports (R6.2, issue 12): the figures follow the money ledger, by order date or by event date, with
the period, event and channel filters; bad filters are a form error."""

from __future__ import annotations

import datetime as dt

from db.finance.ledger import MONEY_KINDS
from db.finance.tables import LedgerEntry
from db.reports import sales
from db.reports.filters import Filters, parse, today
from db.sales.tables import Order
from tests.reports.support import sales_with_refund, signed_in


def _period(**kw) -> Filters:
    return parse({"since": (today() - dt.timedelta(days=1)).isoformat(), "until": today().isoformat(), **kw})


async def _money(channel: str) -> int:
    """What the money entries (payments less refunds) of a channel's orders add up to."""
    rows = await LedgerEntry.select(LedgerEntry.amount_fen).where(
        LedgerEntry.kind.is_in(list(MONEY_KINDS)) & (LedgerEntry.order.channel == channel)
    )
    return sum(r["amount_fen"] for r in rows)


async def test_sales_by_channel_are_gross_refunds_fees_and_net_of_the_ledger():
    ids = await sales_with_refund()
    rows = {r["channel"]: r for r in await sales.by_dimension(_period(), "channel")}
    window, partner = rows["box_office"], rows["partner"]
    assert window["orders"] == 2 and partner["orders"] == 1
    assert window["gross"] == 2 * 50000 + 3 * 5000  # two VIP seats in cash, three park tickets by card
    assert window["refunded"] == 50000  # one VIP seat refunded
    assert window["fees_kept"] == ids["refund"].fee_fen
    assert window["net"] == window["gross"] - window["refunded"] + window["fees_kept"] == await _money("box_office")
    assert partner["gross"] == partner["net"] == 2 * 20000 == await _money("partner")


async def test_every_dimension_adds_up_to_the_same_totals():
    await sales_with_refund()
    filters = _period()
    totals = None
    for key in ("day", "event", "session", "channel", "outlet", "seller", "method", "day_channel_event"):
        rows = await sales.by_dimension(filters, key)
        sums = tuple(sum(r[k] for r in rows) for k in ("orders", "gross", "refunded", "fees_kept", "net"))
        totals = totals or sums
        assert sums == totals, key
    classes = await sales.by_price_class(filters)
    assert tuple(sum(r[k] for r in classes) for k in ("gross", "refunded", "fees_kept", "net")) == totals[1:]
    vip = next(r for r in classes if r["price_class"] == "VIP")
    assert (vip["tickets"], vip["tickets_refunded"], vip["refunded"]) == (2, 1, 50000)
    methods = {r["method"]: r["net"] for r in await sales.by_dimension(filters, "method")}
    assert set(methods) == {"cash", "card", "partner"}
    sellers = {r["seller"] for r in await sales.by_dimension(filters, "seller")}
    assert "李娜" in sellers  # the seller who took the window payments and paid the refund


async def test_order_date_and_event_date_put_the_same_sales_on_different_days():
    await sales_with_refund()
    wide = {"since": today().isoformat(), "until": (today() + dt.timedelta(days=10)).isoformat()}
    by_order = await sales.by_dimension(parse({**wide, "basis": "order"}), "day")
    by_event = await sales.by_dimension(parse({**wide, "basis": "event"}), "day")
    assert [r["day"] for r in by_order] == [today().isoformat()]
    sessions = await Order.select(Order.session.starts_at).where(Order.status.is_in(["paid", "refunded"]))
    assert len(by_event) == 2 and by_event[0]["day"] > today().isoformat()  # the park tomorrow, the show in 3 days
    assert sum(r["net"] for r in by_event) == sum(r["net"] for r in by_order)
    assert len({s["session.starts_at"].date() for s in sessions}) == 2
    # Today by event date: nothing plays today.
    assert await sales.by_dimension(parse({"since": today().isoformat(), "basis": "event"}), "day") == []


async def test_event_and_channel_filters():
    ids = await sales_with_refund()
    partner_only = await sales.by_dimension(_period(channel="partner"), "event")
    assert [(r["event"], r["gross"]) for r in partner_only] == [("测试演出", 40000)]
    park = await sales.by_dimension(_period(event=ids["walk"]), "channel")
    assert [(r["channel"], r["gross"]) for r in park] == [("box_office", 15000)]


async def test_bad_filters_are_a_form_error_on_the_page():
    async with signed_in("supervisor", language="en") as client:
        for query, message in (
            ("since=2026-12-05&until=2026-12-01", "The period must start on or before its last day."),
            ("since=yesterday", "Enter a date as YYYY-MM-DD."),
            ("event=%C2%B2", "is not a whole number"),
            ("channel=tv", "Choose a channel from the list."),
            ("basis=paid", "Choose order date or event date."),
            ("since=2020-01-01&until=2026-01-01", "A report covers at most 731 days."),
        ):
            response = await client.get(f"/reports/sales/day?{query}")
            assert response.status_code == 422, query
            assert 'data-testid="form-error"' in response.text, query
            assert message in response.text.replace("&#39;", "'"), query
            csv = await client.get(f"/reports/sales/day?{query}&format=csv")
            assert csv.status_code == 422 and "text/html" in csv.headers["content-type"], query
