"""Every report in one list (R6.2): its URL key, title, columns, chart, who may read it, and the query that
fills it. The page, the CSV and XLSX exports and the schedules all read a report through `rows`, so they
show the same numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from db.reports import attendance, customers, inventory, lines, sales
from db.reports.columns import COUNT, FEN, PERCENT, Chart, Column
from db.reports.filters import Filters
from db.staff.permissions import Permission


@dataclass(frozen=True, slots=True)
class Report:
    key: str
    group: str  # sales | inventory | attendance | customers
    title: str
    columns: tuple[Column, ...]
    query: Callable[[Filters], Awaitable[list[dict]]] | None = None  # aggregated reports: every row at once
    chart: Chart | None = None
    permission: Permission = Permission.REPORTS_VIEW
    customer_data: bool = False  # each export is recorded in the audit log
    note: str = ""
    filters: tuple[str, ...] = ("period", "basis", "event", "channel")
    streamed: Callable[[Filters], AsyncIterator[list[dict]]] | None = None  # line reports: batches
    counted: Callable[[Filters], Awaitable[int]] | None = None
    ahead_days: int = 0  # the default period reaches this far ahead (sessions still to play)

    async def count(self, filters: Filters) -> int:
        if self.counted is not None:
            return await self.counted(filters)
        return len(await self.query(filters))

    async def batches(self, filters: Filters) -> AsyncIterator[list[dict]]:
        """The report's rows in batches (one batch for an aggregated report)."""
        if self.streamed is not None:
            async for batch in self.streamed(filters):
                yield batch
        else:
            yield await self.query(filters)


MONEY = (
    Column("gross", "Gross", FEN),
    Column("refunded", "Refunds", FEN),
    Column("fees_kept", "Fees kept", FEN),
    Column("net", "Net", FEN),
)
SALES_NOTE = (
    "Gross: orders paid; refunds: the refunded tickets' value; fees kept: refund fees the center keeps; "
    "net = gross - refunds + fees kept (+ exchange differences), the money kept."
)
MONEY_CHART = ("gross", "refunded", "net")


def _sales(key: str) -> Callable[[Filters], Awaitable[list[dict]]]:
    async def run(filters: Filters) -> list[dict]:
        return await sales.by_dimension(filters, key)

    return run


def _sales_report(key: str, title: str, dims: tuple[Column, ...], chart: Chart | None = None) -> Report:
    return Report(
        f"sales/{key}",
        "sales",
        title,
        (*dims, Column("orders", "Paid orders", COUNT), *MONEY),
        _sales(key),
        chart or Chart("bar", tuple(c.key for c in dims), MONEY_CHART),
        note=SALES_NOTE,
    )


async def _kinds(filters: Filters) -> list[dict]:
    return await customers.by_group(filters, "e.kind")


async def _channels(filters: Filters) -> list[dict]:
    return await customers.by_group(filters, "o.channel")


EVENT, SESSION = Column("event", "Event"), Column("session", "Session")
CHANNEL = Column("channel", "Channel", labels="CHANNEL")
CUSTOMER_GROUP = (
    Column("buyers", "Buyers", COUNT),
    Column("new_buyers", "New buyers", COUNT),
    Column("orders", "Paid orders", COUNT),
    Column("tickets", "Tickets", COUNT),
    Column("concessions", "Concession tickets", COUNT),
    Column("concession_share", "Concession share", PERCENT),
)

REPORTS: dict[str, Report] = {
    r.key: r
    for r in (
        _sales_report("day", "Sales by day", (Column("day", "Day"),), Chart("line", ("day",), MONEY_CHART)),
        _sales_report("event", "Sales by event", (EVENT,)),
        _sales_report("session", "Sales by session", (EVENT, SESSION)),
        Report(
            "sales/price_class",
            "sales",
            "Sales by price class",
            (
                EVENT,
                Column("price_class", "Price class"),
                Column("tickets", "Tickets sold", COUNT),
                Column("tickets_refunded", "Tickets refunded", COUNT),
                *MONEY,
            ),
            sales.by_price_class,
            Chart("bar", ("event", "price_class"), MONEY_CHART),
            note=SALES_NOTE + " Per ticket; exchange differences are not in this report.",
        ),
        _sales_report("channel", "Sales by channel", (CHANNEL,)),
        _sales_report("outlet", "Sales by outlet or partner", (Column("outlet", "Outlet or partner"),)),
        _sales_report("seller", "Sales by seller", (Column("seller", "Seller"),)),
        _sales_report(
            "method", "Sales by payment method", (Column("method", "Payment method", labels="PAYMENT_METHOD"),)
        ),
        _sales_report(
            "day_channel_event",
            "Sales by day, channel and event",
            (Column("day", "Day"), CHANNEL, EVENT),
            Chart("bar", ("day",), ("net",), split="channel", stacked=True),
        ),
        Report(
            "sales/lines",
            "sales",
            "Ticket lines",
            lines.columns(),
            chart=None,
            streamed=lines.batches,
            counted=lines.count,
            note="One line per ticket issued in the period (by order date: issued; by event date: the session).",
        ),
        Report(
            "inventory",
            "inventory",
            "Inventory",
            (
                EVENT,
                SESSION,
                Column("price_class", "Price class"),
                Column("channel", "Channel", labels="STOCK_CHANNEL"),
                Column("outlet", "Outlet or partner"),
                Column("capacity", "Capacity", COUNT),
                Column("allocated", "Allocated", COUNT),
                Column("held", "Held", COUNT),
                Column("sold", "Sold", COUNT),
                Column("free", "Free", COUNT),
            ),
            inventory.stock,
            Chart("bar", ("event", "session", "price_class"), ("sold", "held", "free"), stacked=True),
            note="Sessions playing in the period. A class shared out to channels has a line per allocation; "
            "one without allocations is the open pool that every channel sells from.",
            filters=("period", "event"),
            ahead_days=90,
        ),
        Report(
            "attendance",
            "attendance",
            "Attendance by session",
            (
                EVENT,
                SESSION,
                Column("sold", "Tickets sold", COUNT),
                Column("admitted", "Admitted", COUNT),
                Column("no_shows", "No-shows", COUNT),
                Column("show_rate", "Admitted share", PERCENT),
            ),
            attendance.by_session,
            Chart("bar", ("event", "session"), ("admitted", "no_shows"), stacked=True),
            note="Sessions playing in the period; valid tickets (refunded ones are not counted).",
            filters=("period", "event", "channel"),
            ahead_days=90,
        ),
        Report(
            "attendance/gates",
            "attendance",
            "Attendance by gate",
            (
                EVENT,
                SESSION,
                Column("gate", "Gate"),
                Column("admitted", "Admitted", COUNT),
                Column("share", "Share of the session", PERCENT),
            ),
            attendance.by_gate,
            Chart("bar", ("session", "gate"), ("admitted",)),
            note="Each admitted ticket counts at the gate of its first entry.",
            filters=("period", "event", "channel"),
            ahead_days=90,
        ),
        Report(
            "customers",
            "customers",
            "New and returning buyers",
            (
                Column("day", "Day"),
                Column("buyers", "Buyers", COUNT),
                Column("new_buyers", "New buyers", COUNT),
                Column("returning_buyers", "Returning buyers", COUNT),
                Column("orders", "Paid orders", COUNT),
            ),
            customers.new_and_returning,
            Chart("bar", ("day",), ("new_buyers", "returning_buyers"), stacked=True),
            note="A buyer is a phone number; new on the day of their first paid order ever.",
        ),
        Report(
            "customers/repeat",
            "customers",
            "Repeat purchases",
            (
                Column("orders_each", "Paid orders per buyer"),
                Column("buyers", "Buyers", COUNT),
                Column("orders", "Paid orders", COUNT),
                Column("share", "Share of buyers", PERCENT),
            ),
            customers.repeat_purchases,
            Chart("bar", ("orders_each",), ("buyers",)),
        ),
        Report(
            "customers/kinds",
            "customers",
            "Buyers by kind of event",
            (Column("grp", "Kind of event", labels="EVENT_KIND"), *CUSTOMER_GROUP),
            _kinds,
            Chart("bar", ("grp",), ("buyers", "new_buyers", "concessions")),
        ),
        Report(
            "customers/channels",
            "customers",
            "Buyers by channel",
            (Column("grp", "Channel", labels="CHANNEL"), *CUSTOMER_GROUP),
            _channels,
            Chart("bar", ("grp",), ("buyers", "new_buyers", "concessions")),
        ),
        Report(
            "customers/top",
            "customers",
            "Top buyers",
            (
                Column("name", "Buyer"),
                Column("phone", "Phone"),
                Column("orders", "Paid orders", COUNT),
                Column("tickets", "Tickets", COUNT),
                Column("spent", "Spent", FEN),
                Column("first_order", "First order"),
            ),
            customers.top_buyers,
            Chart("bar", ("name",), ("orders",)),
            permission=Permission.REPORTS_CUSTOMERS,
            customer_data=True,
            note="Customer data: phones masked; every export is recorded in the audit log.",
        ),
    )
}
GROUPS = {
    "sales": "Sales",
    "inventory": "Inventory",
    "attendance": "Attendance",
    "customers": "Customers",
}


def get(key: str) -> Report | None:
    return REPORTS.get(key)
