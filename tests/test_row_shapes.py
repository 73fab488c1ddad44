"""Each hot write has one definition (issue 10): the rows the ORM path writes and the rows the hand-written
statements of the PostgreSQL fast paths (db/sales/ordering/rush.py, db/gate/presence.py) write (orders, lines,
status events, payments, tickets, ledger and audit entries, admissions, scans) have one
shape each (db/core/rows.py). These checks fail when a column is added to a table, to a row builder or to
a statement without the others; tests/sales/test_rush_path.py runs both paths on both engines."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from db.audit.record import AUDIT, entry
from db.core.actor import Actor
from db.finance import ledger
from db.gate import presence
from db.gate.rules import Direction
from db.sales import rows
from db.sales.ordering import rush
from db.sales.tickets import issuing

SHAPES = {
    "order": rows.ORDER,
    "order item": rows.ORDER_ITEM,
    "order event": rows.ORDER_EVENT,
    "paid payment": rows.PAID_PAYMENT,
    "ticket": rows.TICKET,
    "audit entry": AUDIT,
    "admission": presence.ADMISSION,
    "scan": presence.SCAN,
    "ledger entry": ledger.LEDGER,
}
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
ACTOR = Actor(7, "李娜", "seller")


@pytest.mark.parametrize("name", SHAPES)
def test_a_shape_names_every_column_of_its_table_once(name):
    shape = SHAPES[name]
    table_columns = {c._meta.name for c in shape.table._meta.columns} - {"id"}
    assert len(set(shape.columns)) == len(shape.columns) and not set(shape.columns) & set(shape.defaulted)
    assert set(shape.columns) | set(shape.defaulted) == table_columns, (
        f"{shape.tablename}: add the new column to the shape's columns (both paths write it) or to `defaulted`"
    )


def test_every_row_builder_fills_exactly_its_shape():
    built = {
        "order item": rows.item_row(
            1,
            price_class=2,
            seat=None,
            quantity=3,
            list_price_fen=5000,
            concession="",
            id_type="",
            id_masked="",
            unit_price_fen=5000,
            breakdown={},
        ),
        "order event": rows.event_row(1, "held", ACTOR, NOW),
        "paid payment": rows.paid_payment_row(1, method="cash", amount_fen=1, outcome="accepted", actor=ACTOR, now=NOW),
        "audit entry": entry(ACTOR, "order.create", "order", "ABC"),
        "admission": presence.first_entry_row(1, 2, 3, NOW),
        "ledger entry": ledger.entry_row(ACTOR, NOW, 1, ledger.Movement(ledger.PAYMENT, 100, "cash")),
        "scan": presence.scan_row(
            at=NOW,
            gate_id=3,
            device_id=None,
            attendant_id=None,
            session_id=2,
            ticket_id=1,
            direction=Direction.IN,
            result={"status": "ok", "reason_code": "ok"},
            offline=False,
            nonce=None,
        ),
    }
    for name, row in built.items():
        assert list(row) == list(SHAPES[name].columns), name
        assert len(SHAPES[name].values(row)) == len(SHAPES[name].columns)
    with pytest.raises(ValueError):
        rows.ORDER_EVENT.values({**built["order event"], "extra": 1})  # a column one path has and the other not


def _inserts(sql: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, columns in re.findall(r'INSERT INTO "?(\w+)"? \(([^)]*)\)', sql):
        found.setdefault(table, set()).update(c.strip().strip('"') for c in columns.split(","))
    return found


def test_the_hand_written_statements_write_the_columns_of_the_shapes():
    def shape_of(*shapes, extra=()):
        return {s.tablename: set(s.columns) | set(extra) for s in shapes}

    assert _inserts(rush.PLACE_SQL) == shape_of(rows.ORDER, rows.ORDER_ITEM, rows.ORDER_EVENT, AUDIT)
    paid = _inserts(rush.PAY_SQL)
    assert paid.pop("ticket") == set(rows.TICKET.columns) | {"id"}  # the fast path reserves the ids
    assert paid == shape_of(rows.ORDER_EVENT, rows.PAID_PAYMENT, AUDIT, ledger.LEDGER)
    assert _inserts(issuing._ISSUE_SQL) == shape_of(rows.TICKET)
    assert _inserts(presence.FIRST_ENTRY_SQL[True]) == _inserts(presence.FIRST_ENTRY_SQL[False])
    assert _inserts(presence.FIRST_ENTRY_SQL[True]) == shape_of(presence.ADMISSION)
    assert _inserts(presence.SCAN_SQL) == shape_of(presence.SCAN)
    assert _inserts(presence.FIRST_ENTRY_WITH_SCAN_SQL) == shape_of(presence.ADMISSION, presence.SCAN)


def test_tickets_take_the_same_columns_of_their_order_line_on_both_paths():
    assert set(rows.TICKET_FROM_ITEM) <= set(rows.TICKET.columns)
    assert set(rows.TICKET_FROM_ITEM.values()) <= set(rows.ORDER_ITEM.columns)
    # per ticket besides the line's columns: its signed QR text and its short number (issue 15)
    assert set(rush._PER_TICKET) == set(rows.TICKET_FROM_ITEM) - {"order"} | {"code", "short_code"}
    for column, item_column in rows.TICKET_FROM_ITEM.items():
        assert f'it."{item_column}"' in issuing._ISSUE_SQL and f"t.{column}" in rush.PAY_SQL or column == "order"
