"""Demo data for the finance pages (issue 12): two ticket windows and an outlet, a closed shift of 李娜 with
cash, card and mobile sales counted to the fen, and her shift of today still open (the "my shift" page
shows its blind count form), the settlement agreement of the demo partner, this year's budget and some
costs. Safe to run twice."""

from __future__ import annotations

import datetime as dt

from db.catalog.tables import PriceClass
from db.core.actor import Actor
from db.core.clock import utcnow
from db.finance import budgets, settlement, shifts
from db.finance.ledger import venue_day
from db.finance.tables import Shift, Window
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import ItemRequest, create_order
from db.sales.payments.operations import confirm_window_payment
from db.sales.tables import Partner
from db.staff.tables import StaffUser

WINDOWS = [
    ("东门1号窗口", "国家大剧院东门售票厅", "window"),
    ("东门2号窗口", "国家大剧院东门售票厅", "window"),
    ("王府井代售点", "王府井大街138号", "outlet"),
]
BUYER = Buyer("郑晓燕", "13711115555", "zhengxy@example.cn", "")


async def _staff(username: str) -> Actor | None:
    row = await StaffUser.select(StaffUser.id, StaffUser.display_name, StaffUser.role).where(
        StaffUser.username == username
    )
    return Actor(row[0]["id"], row[0]["display_name"], row[0]["role"]) if row else None


async def _sell(seller: Actor, method: str, quantity: int, reference: str = "") -> int:
    """A general-admission order paid at the window; its total in fen (0 when no GA stock is left)."""
    pc = (
        await PriceClass.select(PriceClass.id, PriceClass.session)
        .where((PriceClass.seat_class == "") & (PriceClass.available >= quantity))
        .order_by(PriceClass.id)
        .first()
    )
    if pc is None:
        return 0
    order = await create_order(
        seller,
        session_id=pc["session"],
        channel="box_office",
        buyer=BUYER,
        items=[ItemRequest(price_class_id=pc["id"], quantity=quantity)],
    )
    if order.needs_audit:
        return 0
    await confirm_window_payment(seller, order.code, method, 10**6 if method == "cash" else None, reference=reference)
    return order.total_fen


async def load(actor: Actor) -> None:
    supervisor, seller = await _staff("zhangwei"), await _staff("lina")
    if supervisor is None or seller is None or await Window.exists():
        return
    ids = [await shifts.create_window(supervisor, name, place, kind) for name, place, kind in WINDOWS]
    first = await shifts.open_shift(seller, ids[0], 50000)
    cash = await _sell(seller, "cash", 2) + await _sell(seller, "cash", 1)
    card = await _sell(seller, "card", 2, "000731")
    mobile = await _sell(seller, "mobile", 1, "4200002026120112345678")
    drawer = 50000 + cash
    notes = {10000: drawer // 10000, 1000: drawer % 10000 // 1000, 100: drawer % 1000 // 100, 10: drawer % 100 // 10}
    await shifts.count_shift(seller, first, notes, card, mobile)
    if not await Shift.exists().where(Shift.status == shifts.OPEN):
        await shifts.open_shift(seller, ids[0], 50000)
    auditor = await _staff("wangfang")
    partner = await Partner.select(Partner.id).order_by(Partner.id).first()
    if auditor and partner:  # 票多多: 5 % of the net sales plus 1 yuan a ticket, settled monthly on the 1st
        await settlement.save_agreement(
            auditor,
            partner["id"],
            commission_bp=500,
            per_ticket_fen=100,
            cycle="monthly",
            settlement_day=1,
            valid_from=dt.date(2026, 1, 1),
        )
        await settlement.save_agreement(  # its shop by West Lake sells at 4 %, settled weekly on Mondays
            auditor,
            partner["id"],
            commission_bp=400,
            per_ticket_fen=0,
            cycle="weekly",
            settlement_day=1,
            valid_from=dt.date(2026, 1, 1),
            outlet="西湖门店",
        )
    await _budget(auditor or supervisor)


async def _budget(actor: Actor) -> None:
    """This year's budget: ticket income, upstream purchases, printing and expenses per month, and costs."""
    year = venue_day(utcnow()).year
    monthly = {
        "ticket_income": 80_000_000,  # 800,000 yuan
        "upstream_purchase": 12_000_000,
        "printing": 300_000,
        "expenses": 5_000_000,
    }
    for category, fen in monthly.items():
        await budgets.set_budget(actor, year, category, {m: fen + (m % 3) * fen // 10 for m in range(1, 13)})
    today = venue_day(utcnow())
    for day, category, fen, note in (
        (today.replace(day=1), "upstream_purchase", 11_500_000, "向主办方采购《茶花女》团体票"),
        (today.replace(day=2), "printing", 420_000, "热敏票纸 20 箱（超出预算：加印圣诞场）"),
        (today, "expenses", 1_280_000, "售票厅空调维修"),
    ):
        await budgets.record_cost(actor, day, category, fen, note)
