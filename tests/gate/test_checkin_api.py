"""POST /api/v1/checkin/redeem and the offline-sync endpoints over HTTP (issue 4): device tokens and
staff sessions with GATE_SCAN, 200 for every verdict, problem JSON for bad requests and credentials, and
exactly one ok per ticket under concurrent requests from several gates."""

from __future__ import annotations

import asyncio

from db.gate.devices import register_device
from db.gate.tables import Scan
from db.sales.tables import Ticket
from db.staff.permissions import Role
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import ADMIN_ACTOR, fetch_csrf, http_client, make_staff, sign_in

URL = "/api/v1/checkin/redeem"


async def devices(world) -> dict[str, str]:
    return {
        code: (await register_device(ADMIN_ACTOR, code, f"闸机 {code}", f"token-for-{code}-123"))[1]
        for code in world["gates"]
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_device_redeems_and_gets_every_verdict_with_200():
    world = await open_venue()
    tokens = await devices(world)
    ticket = await issue_ticket(world["session"], concession="student")
    async with http_client() as client:
        first = await client.post(
            URL, json={"code": ticket["code"], "gate": "G-1", "nonce": "abc"}, headers=bearer(tokens["G-1"])
        )
        assert first.status_code == 200
        body = first.json()
        assert body["status"] == "ok" and body["attention"] is True
        assert body["ticket"] == {
            "id": ticket["id"],
            "short_code": ticket["short_code"],
            "session_id": world["session"],
            "session": body["ticket"]["session"],
            "seat": None,
            "class": "站票",
            "concession": "student",
            "concession_name": "学生",
        }
        assert body["reason"] == "欢迎入场。" and body["attention_text"] == "学生优惠票：请查验证件后放行。"
        again = await client.post(URL, json={"code": ticket["code"]}, headers=bearer(tokens["G-2"]))
        assert again.status_code == 200 and again.json()["status"] == "already_redeemed"
        assert again.json()["first_entry"]["gate"] == "G-1"
        retry = await client.post(
            URL, json={"code": ticket["code"], "gate": "G-1", "nonce": "abc"}, headers=bearer(tokens["G-1"])
        )
        assert retry.json()["status"] == "ok" and retry.json()["replayed"] is True
        forged = await client.post(URL, json={"code": "X" * 119}, headers=bearer(tokens["G-1"]))
        assert forged.status_code == 200 and forged.json()["status"] == "invalid" and forged.json()["ticket"] is None
    rows = await Scan.select(Scan.status, Scan.device.name).order_by(Scan.id)
    assert [(r["status"], r["device.name"]) for r in rows] == [
        ("ok", "闸机 G-1"),
        ("already_redeemed", "闸机 G-2"),
        ("invalid", "闸机 G-1"),
    ]


async def test_attention_names_the_concession_kind_in_the_requests_language():
    world = await open_venue()
    tokens = await devices(world)
    answers = {}
    async with http_client() as client:
        for language in ("zh_CN", "en"):
            client.cookies.set("lang", language)
            for kind in ("student", "senior", ""):
                ticket = await issue_ticket(world["session"], concession=kind)
                answers[language, kind] = (
                    await client.post(URL, json={"code": ticket["code"]}, headers=bearer(tokens["G-1"]))
                ).json()
    texts = {
        key: (a["ticket"]["concession"], a["ticket"]["concession_name"], a["attention_text"])
        for key, a in answers.items()
    }
    assert texts == {
        ("zh_CN", "student"): ("student", "学生", "学生优惠票：请查验证件后放行。"),
        ("zh_CN", "senior"): ("senior", "老年人", "老年人优惠票：请查验证件后放行。"),
        ("zh_CN", ""): ("", "", ""),
        ("en", "student"): ("student", "Student", "Student concession: check the ID before letting the visitor in."),
        ("en", "senior"): ("senior", "Senior", "Senior concession: check the ID before letting the visitor in."),
        ("en", ""): ("", "", ""),
    }
    assert all(a["status"] == "ok" and "concession_names" not in a["ticket"] for a in answers.values())


async def test_seat_is_worded_in_the_requests_language_like_the_reason():
    world = await open_venue()
    tokens = await devices(world)
    expected = {
        None: ("欢迎入场。", "A2 1排{n}座"),
        "zh_CN": ("欢迎入场。", "A2 1排{n}座"),
        "en": ("Welcome.", "A2 row 1, seat {n}"),
    }
    async with http_client() as client:
        for language, (reason, seat) in expected.items():
            if language:
                client.cookies.set("lang", language)
            ticket = await issue_ticket(world["seated"], section="A2")
            number = (await Ticket.select(Ticket.seat.number).where(Ticket.id == ticket["id"]).first())["seat.number"]
            answer = (await client.post(URL, json={"code": ticket["code"]}, headers=bearer(tokens["G-1"]))).json()
            assert (answer["status"], answer["reason"], answer["ticket"]["seat"]) == (
                "ok",
                reason,
                seat.format(n=number),
            ), language


async def test_bad_requests_and_credentials_are_problems():
    world = await open_venue()
    tokens = await devices(world)
    ticket = await issue_ticket(world["session"])
    async with http_client() as client:
        anonymous = await client.post(URL, json={"code": ticket["code"], "gate": "G-1"})
        assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith("application/problem+json")
        wrong_token = await client.post(URL, json={"code": ticket["code"]}, headers=bearer("not-a-device-token"))
        assert wrong_token.status_code == 401
        other_gate = await client.post(URL, json={"code": ticket["code"], "gate": "G-2"}, headers=bearer(tokens["G-1"]))
        assert other_gate.status_code == 403
        for body, field in (
            ({}, "code"),
            ({"code": 5}, "code"),
            ({"code": ticket["code"], "direction": "up"}, "direction"),
            ({"code": ticket["code"], "session_id": "x"}, "session_id"),
            ({"code": ticket["code"], "nonce": "n" * 81}, "nonce"),
        ):
            response = await client.post(URL, json=body, headers=bearer(tokens["G-1"]))
            assert response.status_code == 422, body
            assert response.json()["field"] == field and response.json()["detail"]
        not_json = await client.post(
            URL, content=b"[1,", headers={**bearer(tokens["G-1"]), "content-type": "application/json"}
        )
        assert not_json.status_code == 400
    assert await Scan.count() == 0  # nothing half-written


async def test_staff_session_with_gate_scan_needs_the_csrf_header():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    await make_staff(Role.GATE, "gate1")
    await make_staff(Role.SELLER, "seller1")
    async with http_client() as seller:
        await sign_in(seller, "seller1")
        csrf = await fetch_csrf(seller)
        refused = await seller.post(URL, json={"code": ticket["code"], "gate": "G-1"}, headers={"x-csrftoken": csrf})
        assert refused.status_code == 403
    async with http_client() as attendant:
        await sign_in(attendant, "gate1")
        no_csrf = await attendant.post(URL, json={"code": ticket["code"], "gate": "G-1"})
        assert no_csrf.status_code == 403
        csrf = await fetch_csrf(attendant)
        ok = await attendant.post(URL, json={"code": ticket["code"], "gate": "G-1"}, headers={"x-csrftoken": csrf})
        assert ok.status_code == 200 and ok.json()["status"] == "ok"
    scan = await Scan.select(Scan.attendant.username, Scan.device).first()
    assert scan == {"attendant.username": "gate1", "device": None}


async def test_concurrent_requests_from_several_gates_admit_each_ticket_once():
    world = await open_venue()
    tokens = await devices(world)
    tickets = [await issue_ticket(world["session"]) for _ in range(15)]
    async with http_client() as client:
        attempts = [(t, gate) for t in tickets for gate in world["gates"]]
        responses = await asyncio.gather(
            *(client.post(URL, json={"code": t["code"]}, headers=bearer(tokens[gate])) for t, gate in attempts)
        )
    assert {r.status_code for r in responses} == {200}
    oks = [t["id"] for (t, _), r in zip(attempts, responses, strict=False) if r.json()["status"] == "ok"]
    assert sorted(oks) == sorted(t["id"] for t in tickets)


async def test_sync_and_journal_endpoints_serve_devices_only():
    world = await open_venue()
    tokens = await devices(world)
    refunded = await issue_ticket(world["session"], order_status="refunded")
    admitted = await issue_ticket(world["session"])
    async with http_client() as client:
        await client.post(URL, json={"code": admitted["code"]}, headers=bearer(tokens["G-1"]))
        assert (await client.get("/api/v1/checkin/sync")).status_code == 401
        cache = (await client.get("/api/v1/checkin/sync", headers=bearer(tokens["G-2"]))).json()
        assert cache["gate"] == "G-2" and refunded["id"] in cache["revoked"]
        assert [a["ticket"] for a in cache["admitted"]] == [admitted["id"]]
        assert {s["id"] for s in cache["sessions"]} == {world["session"], world["later"], world["seated"]}
        bad = await client.post(
            "/api/v1/checkin/journal", json={"entries": [{"code": "x"}]}, headers=bearer(tokens["G-2"])
        )
        assert bad.status_code == 422


async def test_a_retry_of_a_scan_already_uploaded_in_the_offline_journal_gets_its_outcome():
    """A reader that journaled a scan offline, uploaded the journal and then retries the same request online
    (same nonce) gets the recorded outcome, not a second admission and not an error (R9.2)."""
    world = await open_venue()
    tokens = await devices(world)
    ticket = await issue_ticket(world["session"])
    entry = {
        "nonce": "n-77",
        "code": ticket["code"],
        "direction": "in",
        "at": "2026-11-26T10:00:00+00:00",
        "status": "ok",
        "reason_code": "welcome",
    }
    async with http_client() as client:
        uploaded = await client.post(
            "/api/v1/checkin/journal", json={"entries": [entry]}, headers=bearer(tokens["G-1"])
        )
        assert uploaded.status_code == 200 and uploaded.json()["recorded"] == 1
        retry = await client.post(URL, json={"code": ticket["code"], "nonce": "n-77"}, headers=bearer(tokens["G-1"]))
    assert retry.status_code == 200
    body = retry.json()
    assert (body["status"], body["replayed"], body["reason"]) == ("ok", True, "该次检票已从检票口的离线记录中登记。")
    assert await Scan.count().where(Scan.ticket == ticket["id"]) == 1


async def test_a_replayed_nonce_with_another_code_or_device_admits_nobody_and_is_recorded():
    """Issue 9 (2): the stored outcome comes back only for the same code from the same device; a forged
    variant of A, another valid ticket B or another device with A's nonce gets a 409 that admits nobody,
    and each such attempt is a recorded refusal (B stays not admitted)."""
    world = await open_venue()
    tokens = await devices(world)
    _, other_device = await register_device(ADMIN_ACTOR, "G-1", "闸机 G-1 备用", "token-for-G-1-spare")
    a, b = await issue_ticket(world["session"]), await issue_ticket(world["session"])
    gate = bearer(tokens["G-1"])
    async with http_client() as client:
        first = await client.post(URL, json={"code": a["code"], "nonce": "n-1"}, headers=gate)
        assert first.json()["status"] == "ok"
        forged = a["code"][:-3] + ("AAA" if not a["code"].endswith("AAA") else "BBB")
        for code, headers in ((forged, gate), (b["code"], gate), (a["code"], bearer(other_device))):
            replay = await client.post(URL, json={"code": code, "nonce": "n-1"}, headers=headers)
            assert replay.status_code == 409, replay.text
            assert replay.headers["content-type"].startswith("application/problem+json")
            assert replay.json()["field"] == "nonce"
        same = await client.post(URL, json={"code": a["code"], "nonce": "n-1"}, headers=gate)
        assert same.status_code == 200 and same.json()["status"] == "ok" and same.json()["replayed"] is True
        b_now = await client.post(URL, json={"code": b["code"]}, headers=gate)
        assert b_now.json()["status"] == "ok"  # B was never admitted by the replay
    refusals = await Scan.select(Scan.ticket, Scan.status, Scan.reason).where(Scan.reason == "nonce_reused")
    assert sorted((r["ticket"] or 0, r["status"]) for r in refusals) == sorted(
        [(0, "invalid"), (b["id"], "invalid"), (a["id"], "invalid")]
    )


async def test_a_journal_entry_admitting_a_forged_code_is_recorded_as_a_refusal():
    """Decision (issue 9): the journal API trusts the device's verdict only for a code that is a ticket of
    ours; a forged, unsigned or unknown code uploaded as an "ok" scan is recorded as invalid, not an entry."""
    world = await open_venue()
    tokens = await devices(world)
    entry = {"direction": "in", "at": "2026-11-26T10:00:00+00:00", "status": "ok", "reason_code": "welcome"}
    entries = [{**entry, "nonce": "j-1", "code": "FORGED-CODE-1"}, {**entry, "nonce": "j-2", "code": "X" * 119}]
    async with http_client() as client:
        uploaded = await client.post(
            "/api/v1/checkin/journal", json={"entries": entries}, headers=bearer(tokens["G-1"])
        )
    assert uploaded.status_code == 200 and uploaded.json()["recorded"] == 2
    rows = await Scan.select(Scan.status, Scan.reason, Scan.ticket, Scan.result).output(load_json=True)
    assert [(r["status"], r["reason"], r["ticket"]) for r in rows] == [("invalid", "unreadable", None)] * 2
    assert all(r["result"]["device_status"] == "ok" for r in rows)
