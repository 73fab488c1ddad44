"""The redeem operation against the real database (issue 4, R1.2 no double admission, R5.3 refunded
tickets void at the gates, R3.6 concession re-check): every verdict, presence, recording, nonces, and
exactly one ok per ticket under concurrent duplicate scans from several gates."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from db.catalog.tables import EventSession
from db.gate.redeem import redeem
from db.gate.tables import Admission, Scan
from db.sales.tickets.codes import sign
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import utc


async def scans_of(ticket_id: int) -> list[str]:
    rows = await Scan.select(Scan.status).where(Scan.ticket == ticket_id).order_by(Scan.id)
    return [r["status"] for r in rows]


async def test_first_scan_admits_and_the_second_names_the_first_entry():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    first = await redeem(ticket["code"], "G-1")
    assert first["status"] == "ok" and first["first_entry"] is None
    assert (
        first["ticket"]["id"] == ticket["id"] and first["ticket"]["class"] == "站票" and first["ticket"]["seat"] is None
    )
    second = await redeem(ticket["code"], "G-2")
    assert second["status"] == "already_redeemed"
    assert second["first_entry"]["gate"] == "G-1"
    assert second["reason_params"]["gate"] == "G-1"
    assert await scans_of(ticket["id"]) == ["ok", "already_redeemed"]
    presence = await Admission.select().where(Admission.ticket == ticket["id"]).first()
    assert presence["inside"] is True and presence["entries"] == 1


async def test_rejections_are_recorded_with_their_reason():
    world = await open_venue()
    revoked = await issue_ticket(world["session"], status="revoked")
    refunded = await issue_ticket(world["session"], order_status="refunded")
    unpaid = await issue_ticket(world["session"], order_status="awaiting_payment")
    later = await issue_ticket(world["later"])
    elsewhere = await issue_ticket(world["elsewhere"])
    valid = await issue_ticket(world["session"])
    forger = Ed25519PrivateKey.generate()
    forged = sign(forger, 1, valid["id"], valid["session_id"], False)
    altered = valid["code"][:40] + ("A" if valid["code"][40] != "A" else "B") + valid["code"][41:]
    expectations = [
        (revoked["code"], {}, "revoked"),
        (refunded["code"], {}, "revoked"),
        (unpaid["code"], {}, "unpaid"),
        (later["code"], {}, "invalid_time"),
        (elsewhere["code"], {}, "wrong_session"),
        (valid["code"], {"session_id": world["later"]}, "wrong_session"),
        (forged, {}, "invalid"),
        (altered, {}, "invalid"),
        ("hello world", {}, "invalid"),
        (sign(_test_key(), 1, 999999, valid["session_id"], False), {}, "invalid"),
    ]
    for code, kwargs, status in expectations:
        assert (await redeem(code, "G-1", **kwargs))["status"] == status, code
    rows = await Scan.select(Scan.status, Scan.reason, Scan.gate.code).order_by(Scan.id)
    assert [r["status"] for r in rows] == [s for _, _, s in expectations]
    assert all(r["gate.code"] == "G-1" and r["reason"] for r in rows)
    assert await Admission.count() == 0
    # none of the rejections used up the valid ticket
    assert (await redeem(valid["code"], "G-1"))["status"] == "ok"


def _test_key() -> Ed25519PrivateKey:
    from db.sales.tickets.codes import keyring

    return keyring().private_key


async def test_too_late_and_a_gate_of_the_venue_that_does_not_serve_the_session():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    await EventSession.update({EventSession.admission_closes_at: utc(hours=-0.5)}).where(
        EventSession.id == world["session"]
    )
    assert (await redeem(ticket["code"], "G-1"))["reason_code"] == "too_late"
    from db.catalog.tables import SessionGate

    await SessionGate.delete().where(
        (SessionGate.session == world["session"]) & (SessionGate.gate == world["gate_ids"][3])
    )
    result = await redeem(ticket["code"], "G-4")
    assert (result["status"], result["reason_code"]) == ("wrong_gate", "other_gate")


async def test_stadium_sections_limit_the_gates():
    world = await open_venue(sections={"G-1": "A1", "G-2": "A2"})
    a2 = await issue_ticket(world["seated"], section="A2")
    wrong = await redeem(a2["code"], "G-1")
    assert (wrong["status"], wrong["reason_params"]) == ("wrong_gate", {"section": "A2"})
    right = await redeem(a2["code"], "G-2")
    assert (
        right["status"] == "ok" and right["ticket"]["seat"]["section"] == "A2" and right["ticket"]["seat"]["row"] == "1"
    )
    assert (await redeem((await issue_ticket(world["seated"], section="A1"))["code"], "G-3"))["status"] == "ok"


async def test_concession_ticket_asks_for_the_id():
    world = await open_venue()
    ticket = await issue_ticket(world["session"], concession="student")
    result = await redeem(ticket["code"], "G-1")
    assert result["status"] == "ok" and result["attention"] is True
    assert result["attention_text"] == "Student concession: check the ID before letting the visitor in."
    assert result["ticket"]["concession"] == "student"
    assert result["ticket"]["concession_names"] == {"zh_CN": "学生", "en": "Student"}  # from the same SELECT
    plain = await redeem((await issue_ticket(world["session"]))["code"], "G-1")
    assert (plain["attention"], plain["attention_text"], plain["ticket"]["concession_names"]) == (False, "", {})


async def test_exit_and_reentry_follow_the_session():
    world = await open_venue(reentry_allowed=False)
    ticket = await issue_ticket(world["session"])
    assert (await redeem(ticket["code"], "G-1", direction="out"))["reason_code"] == "not_inside"
    assert (await redeem(ticket["code"], "G-1"))["status"] == "ok"
    assert (await redeem(ticket["code"], "G-2", direction="out"))["status"] == "ok"
    assert (await redeem(ticket["code"], "G-2", direction="out"))["reason_code"] == "not_inside"
    again = await redeem(ticket["code"], "G-1")
    assert (again["status"], again["reason_code"]) == ("already_redeemed", "no_reentry")
    await EventSession.update({EventSession.reentry_allowed: True}).where(EventSession.id == world["session"])
    back = await redeem(ticket["code"], "G-3")
    assert (back["status"], back["reason_code"]) == ("ok", "welcome_back")
    presence = await Admission.select().where(Admission.ticket == ticket["id"]).first()
    assert (presence["inside"], presence["entries"], presence["exits"]) == (True, 2, 1)


async def test_a_retried_nonce_answers_the_same_and_records_once():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    first = await redeem(ticket["code"], "G-1", nonce="n-1")
    retry = await redeem(ticket["code"], "G-1", nonce="n-1")
    assert first["status"] == retry["status"] == "ok" and retry["replayed"] is True
    # the same nonce from another gate is another scan
    assert (await redeem(ticket["code"], "G-2", nonce="n-1"))["status"] == "already_redeemed"
    rejected = await redeem("not a ticket", "G-1", nonce="n-2")
    assert (await redeem("not a ticket", "G-1", nonce="n-2")) == {**rejected, "replayed": True}
    assert await Scan.count() == 3


async def test_concurrent_duplicate_scans_from_several_gates_admit_each_ticket_once():
    world = await open_venue()
    tickets = [await issue_ticket(world["session"]) for _ in range(25)]
    attempts = [(t, gate) for t in tickets for gate in world["gates"] for _ in range(2)]
    results = await asyncio.gather(*(redeem(t["code"], gate) for t, gate in attempts))
    oks: dict[int, int] = {}
    for (t, _), result in zip(attempts, results, strict=False):
        assert result["status"] in ("ok", "already_redeemed")
        oks[t["id"]] = oks.get(t["id"], 0) + (result["status"] == "ok")
    assert oks == {t["id"]: 1 for t in tickets}
    assert await Admission.count() == len(tickets)
    assert await Scan.count() == len(attempts)
    assert await Scan.count().where(Scan.status == "ok") == len(tickets)


async def test_concurrent_retries_of_one_nonce_record_one_scan():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    results = await asyncio.gather(*(redeem(ticket["code"], "G-1", nonce="same") for _ in range(8)))
    assert {r["status"] for r in results} == {"ok"}
    assert await Scan.count() == 1


async def test_concurrent_exits_and_reentries_keep_one_change_each():
    world = await open_venue(reentry_allowed=True)
    ticket = await issue_ticket(world["session"])
    await redeem(ticket["code"], "G-1")
    exits = await asyncio.gather(*(redeem(ticket["code"], g, direction="out") for g in world["gates"]))
    assert sorted(r["status"] for r in exits) == ["invalid", "invalid", "invalid", "ok"]
    entries = await asyncio.gather(*(redeem(ticket["code"], g) for g in world["gates"]))
    assert sorted(r["status"] for r in entries) == ["already_redeemed"] * 3 + ["ok"]
    presence = await Admission.select().where(Admission.ticket == ticket["id"]).first()
    assert (presence["entries"], presence["exits"], presence["inside"]) == (2, 1, True)
