"""Parts of the camera client without a database: the debouncer (a code held in front of the camera
counts once), the offline judge built from exported public keys only, the journal, the verdict screen."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from db.gate.redeem import verdict_dict
from db.gate.rules import Direction, Status
from db.sales.tickets.codes import KeyRing, sign
from scanner.client import Debouncer, _offline_ticket
from scanner.offline import Journal, OfflineCache, judge, remember, replay_journal
from scanner.verdict_ui import AMBER, BANNER_HEIGHT, GREEN, RED, VerdictScreen

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


def test_a_code_held_for_many_frames_counts_once_and_again_after_it_left():
    d = Debouncer(ready_after=2.0, gone_after=1.0)
    submitted = [(t / 10, d.feed(["A"], t / 10)) for t in range(0, 50)]  # held for 5 s
    assert [t for t, text in submitted if text] == [0.0]
    assert d.feed([], 5.1) is None
    assert d.feed(["A"], 6.5) == "A"  # shown again after leaving the frame for 1.5 s


def test_the_next_ticket_waits_until_the_client_is_ready():
    d = Debouncer(ready_after=2.0, gone_after=1.0)
    assert d.feed(["A"], 0.0) == "A"
    assert d.feed(["A", "B"], 1.0) is None  # the verdict is still on screen
    assert d.feed(["B"], 2.0) == "B"
    assert d.feed(["A"], 4.5) == "A"


@pytest.fixture
def cache():
    ring = KeyRing(Ed25519PrivateKey.generate())
    data = {
        "gate": "G-1",
        "venue_id": 1,
        "synced_at": NOW.isoformat(),
        "public_keys": {str(k): v for k, v in ring.export_public().items()},
        "sessions": [
            {
                "id": 3,
                "opens_at": (NOW - dt.timedelta(hours=1)).isoformat(),
                "closes_at": (NOW + dt.timedelta(hours=1)).isoformat(),
                "reentry_allowed": False,
                "sections": "",
            }
        ],
        "revoked": [11],
        "unpaid": [12],
        "admitted": [{"ticket": 13, "inside": True, "first_entry_at": NOW.isoformat(), "first_gate": "G-2"}],
    }
    return OfflineCache(data), ring


def test_offline_judge_verifies_with_the_public_keys_and_the_synced_lists(cache):
    cache, ring = cache
    assert not hasattr(cache, "private_key") and all(not hasattr(k, "sign") for k in cache.public_keys.values())
    local = {}

    def status(ticket_id, session_id=3, concession=False, key=ring.private_key):
        decision, _, _ = judge(
            cache, local, "G-1", sign(key, 1, ticket_id, session_id, concession), NOW, Direction.IN, None
        )
        return decision.status

    assert status(10) is Status.OK  # unknown to the cache: the signature suffices
    assert status(11) is Status.REVOKED
    assert status(12) is Status.UNPAID
    assert status(13) is Status.ALREADY_REDEEMED
    assert status(14, session_id=99) is Status.WRONG_GATE
    assert status(15, key=Ed25519PrivateKey.generate()) is Status.INVALID
    decision, claim, presence = judge(
        cache, local, "G-1", sign(ring.private_key, 1, 16, 3, True), NOW, Direction.IN, None
    )
    assert decision.attention and decision.attention_kind == "concession"
    remember(local, claim.ticket_id, "G-1", NOW, Direction.IN, presence)
    assert status(16) is Status.ALREADY_REDEEMED  # no double admission locally


def test_journal_keeps_entries_until_uploaded_and_rebuilds_local_presence(tmp_path, cache):
    cache, _ = cache
    journal = Journal(tmp_path / "j.jsonl")
    for n, ticket in enumerate((20, 21)):
        journal.append(
            {
                "nonce": str(n),
                "code": "x",
                "direction": "in",
                "at": NOW.isoformat(),
                "status": "ok",
                "reason_code": "welcome",
                "ticket_id": ticket,
            }
        )
    journal.append(
        {
            "nonce": "2",
            "code": "x",
            "direction": "out",
            "at": NOW.isoformat(),
            "status": "ok",
            "reason_code": "goodbye",
            "ticket_id": 20,
        }
    )
    local = replay_journal(journal.pending(), cache, "G-1")
    assert (local[20].inside, local[21].inside) == (False, True)
    journal.mark_uploaded(2)
    assert [e["nonce"] for e in journal.pending()] == ["2"]
    assert len((tmp_path / "j.jsonl.uploaded").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("status", "attention", "colour"), [("ok", False, GREEN), ("ok", True, AMBER), ("revoked", False, RED)]
)
def test_verdict_screen_colours_and_text(cache, status, attention, colour):
    cache, ring = cache
    decision, claim, presence = judge(
        cache,
        {},
        "G-1",
        sign(ring.private_key, 1, 11 if status == "revoked" else 30, 3, attention),
        NOW,
        Direction.IN,
        None,
    )
    ticket = {
        "id": 30,
        "seat": {"section": "A1", "row": "1", "number": 2},
        "class": "一等",
        "concession": "student",
        "concession_names": {"zh_CN": "学生", "en": "Student"},
    }
    verdict = verdict_dict(decision, ticket, presence, offline=True)
    screen = VerdictScreen("zh_CN", size=(800, 480), sound=False)
    background, lines = screen.lines(verdict, offline=True)
    assert background == colour
    texts = [text for text, _ in lines]
    assert texts[0] in {"请入场", "票已作废"} and "座位：A1 1排2座" in texts
    assert ("学生优惠票：请查验证件后放行。" in texts) == attention
    english = [text for text, _ in VerdictScreen("en", size=(800, 480), sound=False).lines(verdict, offline=True)[1]]
    assert ("Student concession: check the ID before letting the visitor in." in english) == attention
    assert "Seat: A1 row 1, seat 2" in english
    image = screen.render(verdict, offline=True)
    assert image.shape == (480, 800, 3)
    assert tuple(int(c) for c in image[400, 790]) == colour  # the background fills the window
    banner = image[:BANNER_HEIGHT].reshape(-1, 3)
    assert (banner == 0).all(axis=1).mean() > 0.5 and (banner == (0, 200, 255)).all(axis=1).any()  # black, yellow text


def test_offline_the_verdict_screen_asks_for_the_concession_id_without_naming_a_kind(cache):
    cache, ring = cache
    decision, claim, presence = judge(cache, {}, "G-1", sign(ring.private_key, 1, 31, 3, True), NOW, Direction.IN, None)
    verdict = verdict_dict(decision, _offline_ticket(claim, 31), presence, offline=True)
    assert verdict["attention_text"] == "Concession ticket: check the ID before letting the visitor in."
    _, lines = VerdictScreen("zh_CN", size=(800, 480), sound=False).lines(verdict, offline=True)
    assert "优惠票：请查验证件后放行。" in [text for text, _ in lines]
