"""The short ticket number (issue 15, R1.2): 11 digits with a Damm check digit, distinct for every ticket,
accepted wherever a QR code is (the redeem operation, the check-in API, the offline camera client and its
journal) with the same verdicts and the same exactly-once rule; typing is rate-limited per device."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

from db.core.throttle import Limit
from db.gate import redeem as redeem_module
from db.gate.redeem import redeem
from db.gate.rules import Direction
from db.gate.sync import apply_journal, snapshot
from db.gate.tables import Admission, Scan
from db.sales.tables import Ticket
from db.sales.tickets import short_numbers
from db.sales.tickets.short_numbers import check_digit_ok, grouped, normalise, number_for
from scanner.keypad import Keypad
from scanner.offline import OfflineCache, judge
from tests.gate.test_checkin_api import bearer, devices
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import ADMIN_ACTOR, http_client

KEY = b"k" * 32


def test_numbers_are_eleven_digits_distinct_and_their_check_digit_catches_typing_errors():
    numbers = [number_for(i, KEY) for i in range(1, 20_001)]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 11 and n.isdigit() and check_digit_ok(n) for n in numbers)
    # consecutive ids give unrelated numbers: nothing to count on from one's own ticket
    assert len({n[:4] for n in numbers[:100]}) > 80
    for number in numbers[:300]:
        for i, d in itertools.product(range(11), "0123456789"):
            if d != number[i]:  # every single wrong digit is caught
                assert not check_digit_ok(number[:i] + d + number[i + 1 :])
        for i in range(10):  # every swap of two neighbouring different digits is caught
            if number[i] != number[i + 1]:
                assert not check_digit_ok(number[:i] + number[i + 1] + number[i] + number[i + 2 :])
    # another key, other numbers
    assert number_for(5, KEY) != number_for(5, b"j" * 32)


def test_a_typed_number_may_carry_spaces_and_hyphens_and_anything_else_is_a_qr_text():
    number = number_for(42, KEY)
    assert normalise(grouped(number)) == number == normalise(f"{number[:3]}-{number[3:7]}-{number[7:]}")
    assert grouped(number) == f"{number[:3]} {number[3:7]} {number[7:]}"
    assert normalise(number[:-1]) is None and normalise(number + "1") is None
    assert normalise("１２３４５６７８９０１") is None  # full-width digits are not ASCII digits
    assert normalise("A" * 119) is None


def test_the_camera_clients_keypad_builds_the_number_from_keys():
    keypad = Keypad()
    assert [keypad.feed(k) for k in (ord("1"), ord("2"), ord("x"), 8, ord("3"), -1)] == [None] * 6
    assert keypad.digits == "13"
    assert keypad.feed(13) == "13" and keypad.digits == ""
    assert keypad.feed(13) is None  # Enter on nothing typed checks nothing


async def test_a_typed_number_admits_once_then_names_the_first_entry():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    first = await redeem(grouped(ticket["short_code"]), "G-1")
    assert first["status"] == "ok" and first["ticket"]["id"] == ticket["id"]
    assert first["ticket"]["short_code"] == ticket["short_code"]
    second = await redeem(ticket["short_code"], "G-2")
    assert second["status"] == "already_redeemed" and second["first_entry"]["gate"] == "G-1"
    # the QR code of the same ticket is the same ticket
    assert (await redeem(ticket["code"], "G-3"))["status"] == "already_redeemed"
    assert await Admission.count() == 1


async def test_typed_numbers_get_the_verdicts_the_qr_codes_get():
    world = await open_venue()
    revoked = await issue_ticket(world["session"], status="revoked")
    unpaid = await issue_ticket(world["session"], order_status="awaiting_payment")
    later = await issue_ticket(world["later"])
    elsewhere = await issue_ticket(world["elsewhere"])
    valid = await issue_ticket(world["session"])
    wrong_digit = valid["short_code"][:5] + str((int(valid["short_code"][5]) + 1) % 10) + valid["short_code"][6:]
    body = next(str(i).zfill(10) for i in range(10**9, 10**9 + 50) if str(i).zfill(10) != valid["short_code"][:10])
    no_such = body + str(short_numbers.damm(body))
    for code, status, reason in (
        (revoked["short_code"], "revoked", "revoked"),
        (unpaid["short_code"], "unpaid", "unpaid"),
        (later["short_code"], "invalid_time", "too_early"),
        (elsewhere["short_code"], "wrong_session", "other_venue"),
        (wrong_digit, "invalid", "mistyped"),
        (no_such, "invalid", "unknown"),
    ):
        verdict = await redeem(code, "G-1")
        assert (verdict["status"], verdict["reason_code"]) == (status, reason), code
    assert (await redeem(valid["short_code"], "G-1", session_id=world["later"]))["status"] == "wrong_session"
    assert await Admission.count() == 0
    assert await Scan.count() == 7


async def test_concurrent_typed_and_scanned_entries_of_one_ticket_admit_it_once():
    world = await open_venue()
    tickets = [await issue_ticket(world["session"]) for _ in range(10)]
    attempts = [(t, t[kind], gate) for t in tickets for kind in ("code", "short_code") for gate in world["gates"]]
    results = await asyncio.gather(*(redeem(code, gate) for _, code, gate in attempts))
    oks = {t["id"]: 0 for t in tickets}
    for (t, _, _), result in zip(attempts, results, strict=True):
        assert result["status"] in ("ok", "already_redeemed")
        oks[t["id"]] += result["status"] == "ok"
    assert oks == {t["id"]: 1 for t in tickets}
    assert await Admission.count() == len(tickets)


async def test_the_api_takes_the_number_in_the_code_field_and_limits_typing_per_device(monkeypatch):
    monkeypatch.setattr(redeem_module, "TYPED_PER_DEVICE", Limit(3, dt.timedelta(minutes=1)))
    world = await open_venue()
    tokens = await devices(world)
    tickets = [await issue_ticket(world["session"]) for _ in range(4)]
    async with http_client() as client:

        async def typed(ticket, gate):
            return await client.post(
                "/api/v1/checkin/redeem", json={"code": ticket["short_code"]}, headers=bearer(tokens[gate])
            )

        answers = [await typed(t, "G-1") for t in tickets[:3]]
        assert [a.json()["status"] for a in answers] == ["ok", "ok", "ok"]
        assert answers[0].json()["ticket"]["short_code"] == tickets[0]["short_code"]
        refused = await typed(tickets[3], "G-1")
        assert refused.status_code == 429 and "Wait 1 minutes" not in refused.text
        # scanning the QR code is not typing; another device has its own limit
        scanned = await client.post(
            "/api/v1/checkin/redeem", json={"code": tickets[3]["code"]}, headers=bearer(tokens["G-1"])
        )
        assert scanned.json()["status"] == "ok"
        assert (await typed(tickets[3], "G-2")).json()["status"] == "already_redeemed"
    assert await Admission.count() == 4
    assert await Scan.count().where(Scan.ticket == tickets[3]["id"]) == 2  # the refused attempt scanned nothing


async def test_offline_the_synced_cache_knows_the_numbers_and_the_journal_records_them():
    world = await open_venue()
    ticket = await issue_ticket(world["session"], concession="student")
    other = await issue_ticket(world["session"])
    from db.gate.devices import gate_by_code

    gate = await gate_by_code("G-1")
    data = await snapshot(gate)
    assert data["short_codes"][ticket["short_code"]] == [ticket["id"], world["session"], 1]
    cache = OfflineCache(data)
    now = dt.datetime.now(dt.UTC)
    decision, claim, _ = judge(cache, {}, "G-1", grouped(ticket["short_code"]), now, Direction.IN, None)
    assert decision.status == "ok" and decision.attention and claim.ticket_id == ticket["id"]
    typo = other["short_code"][:-1] + str((int(other["short_code"][-1]) + 1) % 10)
    assert judge(cache, {}, "G-1", typo, now, Direction.IN, None)[0].reason_key == "mistyped"
    sold_since = number_for(10**9)
    assert judge(cache, {}, "G-1", sold_since, now, Direction.IN, None)[0].reason_key == "unknown"
    entries = [
        {"nonce": "n1", "code": ticket["short_code"], "direction": "in", "at": now.isoformat(), "status": "ok",
         "reason_code": "welcome"},
        {"nonce": "n2", "code": sold_since, "direction": "in", "at": now.isoformat(), "status": "ok",
         "reason_code": "welcome"},
    ]  # fmt: skip
    counts = await apply_journal(ADMIN_ACTOR, gate, entries)
    assert counts == {"recorded": 2, "already_recorded": 0, "conflicts": 0}
    assert [a["ticket"] for a in await Admission.select(Admission.ticket)] == [ticket["id"]]
    refused = await Scan.select(Scan.result).where(Scan.nonce == "G-1:n2").output(load_json=True).first()
    assert refused["result"]["status"] == "invalid" and refused["result"]["reason_code"] == "unknown"


async def test_tickets_issued_before_numbers_get_one_from_the_migration():
    world = await open_venue()
    tickets = [await issue_ticket(world["session"]) for _ in range(7)]
    await Ticket.update({Ticket.short_code: None}).where(Ticket.id.is_in([t["id"] for t in tickets[2:]]))
    assert await short_numbers.fill_missing(batch=2) == 5
    rows = await Ticket.select(Ticket.id, Ticket.short_code).order_by(Ticket.id)
    assert [r["short_code"] for r in rows] == [number_for(t["id"]) for t in tickets]
    assert await short_numbers.fill_missing() == 0
