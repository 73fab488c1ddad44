"""Order-history notes read back into kind + params (db/sales/notes.py), also those written before
the notes were worded per language (issue 15)."""

from __future__ import annotations

from db.sales import notes


def test_old_rows_read_back_and_other_text_stays_text():
    old = "X2612: 2 ticket(s) exchanged, order AB12 -> CD34, fee 500 fen, difference -12800 fen"
    assert notes.parse(old) == (
        "exchange",
        {
            "number": "X2612",
            "tickets": 2,
            "order": "AB12",
            "new_order": "CD34",
            "fee_fen": 500,
            "difference_fen": -12800,
        },
    )
    written = notes.note("refund", number="R1", tickets=1, refund_fen=128000, fee_fen=0)
    assert written == "R1: 1 ticket(s), refund 128000 fen, fee 0 fen"
    assert notes.parse(written) == ("refund", {"number": "R1", "tickets": 1, "refund_fen": 128000, "fee_fen": 0})
    assert notes.parse("R1 declined: no proof: none") == ("declined", {"number": "R1", "reason": "no proof: none"})
    assert notes.parse("customer changed their mind") is None
