"""Stadium sections at an offline gate (issue 4, R9.2): the sync snapshot carries the section of every
issued ticket of a seated session the gate admits only some sections of, and the camera client, offline,
refuses a ticket of another section exactly as online; a ticket sold after the sync is admitted with the
attention note asking the attendant to check the section printed on it. Real database, real snapshot,
real client (its cache file written by a real sync, then read by a client that is offline)."""

from __future__ import annotations

from db.catalog.tables import SessionGate
from db.gate.devices import gate_by_code
from db.gate.redeem import redeem
from db.gate.sync import snapshot
from db.sales.tables import Ticket
from scanner.client import GateClient
from scanner.verdict_ui import AMBER, VerdictScreen
from tests.gate.tickets import issue_ticket, open_venue

CHECK_A1 = "Section not known offline: check the section printed on the ticket. This gate admits only A1."
CONCESSION = "Concession ticket: check the ID before letting the visitor in."


def _sessions(snap: dict) -> dict[int, dict]:
    return {s["id"]: s for s in snap["sessions"]}


async def test_snapshot_maps_ticket_sections_only_where_the_gate_admits_some_sections(monkeypatch):
    world = await open_venue(sections={"G-1": "A1"})
    # a general-admission session limited to a section has no seats to check: it stays without a map
    await SessionGate.update({SessionGate.sections: "A1"}).where(
        (SessionGate.session == world["session"]) & (SessionGate.gate == world["gate_ids"][0])
    )
    a1 = await issue_ticket(world["seated"], section="A1")
    a1_next = await issue_ticket(world["seated"], section="A1")
    a2 = await issue_ticket(world["seated"], section="A2")
    revoked = await issue_ticket(world["seated"], section="A1", status="revoked")
    a1_last = await issue_ticket(world["seated"], section="A1", order_status="awaiting_payment")
    await issue_ticket(world["session"])
    assert [a1_next["id"], a2["id"], revoked["id"], a1_last["id"]] == [a1["id"] + n for n in range(1, 5)]

    limited = _sessions(await snapshot(await gate_by_code("G-1")))
    # every issued ticket, as runs of consecutive ids (the unpaid one too: it is refused as unpaid first)
    assert limited[world["seated"]]["ticket_sections"] == {
        "A1": [[a1["id"], a1_next["id"]], [a1_last["id"], a1_last["id"]]],
        "A2": [[a2["id"], a2["id"]]],
    }
    assert limited[world["seated"]]["sections"] == "A1"  # the existing fields stay as they were
    assert {k for k, s in limited.items() if "ticket_sections" in s} == {world["seated"]}
    unlimited = _sessions(await snapshot(await gate_by_code("G-2")))
    assert set(unlimited) == set(limited) and not any("ticket_sections" in s for s in unlimited.values())

    engine_class = type(Ticket._meta.db)
    queries = []
    run_querystring = engine_class.run_querystring

    async def counted(engine, querystring, *args, **kwargs):  # the real engine runs each query; we only count
        queries.append(querystring)
        return await run_querystring(engine, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counted)
    gate = await gate_by_code("G-1")
    await snapshot(gate)
    few = len(queries)
    for section in ("A1", "A2", "A2", "A2"):
        await issue_ticket(world["seated"], section=section)
    queries.clear()
    await snapshot(gate)
    # the revocation log number, sessions, tickets with their sections, real-name holders (issue 13), admissions:
    # no query per ticket
    assert len(queries) == few == 5


async def _offline_client(gate: str, tmp_path) -> tuple[GateClient, GateClient]:
    """(a client that synced online and closed, a client started later from its cache with no database)."""
    paths = {"journal_path": tmp_path / f"{gate}.journal.jsonl", "cache_path": tmp_path / f"{gate}.cache.json"}
    online = GateClient(gate, **paths)
    await online.start()
    assert online.online
    await online.close()
    return online, GateClient(gate, **paths)


async def test_offline_gate_limited_to_a_section_checks_it_like_online(tmp_path):
    world = await open_venue(sections={"G-1": "A1"})
    a1 = await issue_ticket(world["seated"], section="A1")
    a2 = await issue_ticket(world["seated"], section="A2")
    standing = await issue_ticket(world["session"])
    _, offline = await _offline_client("G-1", tmp_path)
    sold_after = await issue_ticket(world["seated"], section="A1")
    student_after = await issue_ticket(world["seated"], section="A1", concession="student")

    refused = await offline.scan(a2["code"])
    assert (refused["status"], refused["reason_code"], refused["reason_params"], refused["offline"]) == (
        "wrong_gate",
        "section",
        {"section": "A2"},
        True,
    )
    online = await redeem(a2["code"], "G-1")
    assert (online["status"], online["reason_code"], online["reason"]) == (
        refused["status"],
        refused["reason_code"],
        refused["reason"],
    )

    admitted = await offline.scan(a1["code"])
    assert (admitted["status"], admitted["attention"], admitted["attention_text"]) == ("ok", False, "")
    general = await offline.scan(standing["code"])  # general admission: no section to check
    assert (general["status"], general["attention"]) == ("ok", False)

    unchecked = await offline.scan(sold_after["code"])
    assert (unchecked["status"], unchecked["attention"], unchecked["check_sections"]) == ("ok", True, ["A1"])
    assert unchecked["attention_text"] == CHECK_A1
    background, lines = VerdictScreen("zh_CN", size=(800, 480), sound=False).lines(unchecked, offline=True)
    assert background == AMBER
    assert "离线无法核对区域：请查看票面上印的区域，本检票口只接待以下区域：A1。" in [text for text, _ in lines]
    both = await offline.scan(student_after["code"])
    assert (both["status"], both["attention_text"]) == ("ok", f"{CHECK_A1} {CONCESSION}")
    again = await offline.scan(sold_after["code"])
    assert again["status"] == "already_redeemed" and again["attention"] is False
    assert [e["status"] for e in offline.journal.pending()] == [
        "wrong_gate",
        "ok",
        "ok",
        "ok",
        "ok",
        "already_redeemed",
    ]


async def test_an_offline_gate_that_admits_every_section_is_unaffected(tmp_path):
    world = await open_venue(sections={"G-1": "A1"})
    a2 = await issue_ticket(world["seated"], section="A2")
    synced, offline = await _offline_client("G-2", tmp_path)
    assert not any("ticket_sections" in s for s in synced.cache.data["sessions"])
    sold_after = await issue_ticket(world["seated"], section="A2")
    for ticket in (a2, sold_after):
        verdict = await offline.scan(ticket["code"])
        assert (verdict["status"], verdict["attention"], verdict["check_sections"], verdict["offline"]) == (
            "ok",
            False,
            [],
            True,
        )
