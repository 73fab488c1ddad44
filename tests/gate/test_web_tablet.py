"""The tablet gate page over HTTP (issue 4, R2.2): who may open it, the gate and session picker, the
decoder served from node_modules (wasm included: nothing from a CDN), and the page's own way of
redeeming (staff session + the page's CSRF token on the JSON endpoint)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from db.gate.tables import Scan
from db.staff.permissions import Role
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import http_client, make_staff, sign_in


@asynccontextmanager
async def signed_in(role: Role, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as a new staff member of `role`."""
    await make_staff(role, username)
    async with http_client() as client:
        await sign_in(client, username)
        yield client


async def test_only_staff_with_gate_scan_open_the_gate_pages():
    world = await open_venue()
    async with http_client() as anonymous:
        response = await anonymous.get("/gate/scan/G-1", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for role, allowed in ((Role.GATE, True), (Role.SUPERVISOR, True), (Role.SELLER, False), (Role.ADMIN, False)):
        async with signed_in(role, f"u_{role.value}") as client:
            for url in ("/gate/scan", f"/gate/scan/G-1?session={world['session']}"):
                response = await client.get(url)
                assert response.status_code == (200 if allowed else 403), (role, url)


async def test_picker_lists_gates_with_their_current_sessions():
    world = await open_venue()
    async with signed_in(Role.GATE, "wang") as client:
        page = (await client.get("/gate/scan")).text
    assert "检票测试场" in page and "别处剧场" in page
    assert f'href="/gate/scan/G-1?session={world["session"]}"' in page
    assert f'href="/gate/scan/X-1?session={world["elsewhere"]}"' in page
    assert f'href="/gate/scan/X-1?session={world["session"]}"' not in page  # X-1 does not admit that session
    assert f"session={world['later']}" not in page  # admission in two days: not today's


async def test_scan_page_is_set_up_for_the_chosen_gate_and_session():
    world = await open_venue(reentry_allowed=True)
    async with signed_in(Role.GATE, "wang") as client:
        page = (await client.get(f"/gate/scan/g-2?session={world['session']}&hold=99999")).text
        assert 'data-gate="G-2"' in page and f'data-session="{world["session"]}"' in page
        assert 'data-hold-ms="10000"' in page  # clamped
        assert 'data-sync-ms="30000"' in page and 'data-stale-ms="300000"' in page  # the offline mode's defaults
        assert "作废名单已过期" in page  # its stale notice, shown by the page's script
        assert 'data-testid="direction-out"' in page  # the session allows re-entry: exits are scanned
        texts = json.loads(
            re.search(r'<script type="application/json" id="gate-texts">(.*?)</script>', page, re.S).group(1)
        )
        assert texts["statuses"]["already_redeemed"] == "已经入场" and texts["statuses"]["ok"] == "请入场"
        assert 'inputmode="none"' in page  # the wedge input keeps the tablet's on-screen keyboard away
        no_reentry = await open_venue_without_reentry(client)
        assert 'data-testid="direction-out"' not in no_reentry


async def open_venue_without_reentry(client) -> str:
    """The scan page of a gate whose only current session admits no re-entry."""
    from db.catalog import operations as catalog
    from tests.helpers import ADMIN_ACTOR, utc

    venue = await catalog.create_venue(ADMIN_ACTOR, "无再入场馆", "南京")
    gate = await catalog.add_gate(ADMIN_ACTOR, venue, "N-1", "北门")
    event = await catalog.create_event(ADMIN_ACTOR, "一次入场", "sport")
    await catalog.create_session(
        ADMIN_ACTOR,
        catalog.SessionSpec(
            event,
            venue,
            utc(hours=1),
            utc(hours=3),
            [catalog.PriceClassSpec("站票", 8000, "", 10)],
            [gate],
            admission_opens_at=utc(hours=-1),
            admission_closes_at=utc(hours=2),
        ),
    )
    return (await client.get("/gate/scan/N-1")).text


async def test_unknown_gate_or_a_session_the_gate_does_not_admit_say_so():
    world = await open_venue()
    async with signed_in(Role.GATE, "wang") as client:
        unknown = await client.get("/gate/scan/NOPE")
        assert unknown.status_code == 404 and "没有代码为 NOPE 的检票口" in unknown.text
        other = await client.get(f"/gate/scan/X-1?session={world['session']}")
        assert other.status_code == 404 and f"检票口 X-1 当前不接待编号为 {world['session']} 的场次" in other.text


async def test_decoder_and_its_wasm_are_served_locally():
    async with http_client() as client:
        script = await client.get("/vendor/zxing-wasm/iife/reader/index.js")
        assert script.status_code == 200 and "ZXingWASM" in script.text
        wasm = await client.get("/vendor/zxing-wasm/reader/zxing_reader.wasm")
        assert wasm.status_code == 200 and wasm.content[:4] == b"\0asm"
        own = await client.get("/static/gate/scan.js")
        # the decoder is told where its wasm is (else it would fetch it from a CDN); nothing else is remote
        assert own.status_code == 200 and "locateFile" in own.text and "root.dataset.wasm" in own.text
        assert not re.search(r"https?://", own.text)


async def test_the_page_redeems_through_the_json_endpoint_with_its_csrf_token():
    world = await open_venue()
    ticket = await issue_ticket(world["session"], concession="student")
    async with signed_in(Role.GATE, "wang") as client:
        page = (await client.get(f"/gate/scan/G-1?session={world['session']}")).text
        csrf = json.loads(re.search(r"hx-headers='([^']+)'", page).group(1))["x-csrftoken"]
        body = {
            "code": ticket["code"],
            "gate": "G-1",
            "nonce": "tablet-1",
            "direction": "in",
            "session_id": world["session"],
        }
        first = await client.post("/api/v1/checkin/redeem", json=body, headers={"x-csrftoken": csrf})
        assert first.status_code == 200 and first.json()["status"] == "ok" and first.json()["attention"] is True
        second = await client.post(
            "/api/v1/checkin/redeem", json={**body, "nonce": "tablet-2"}, headers={"x-csrftoken": csrf}
        )
        assert second.json()["status"] == "already_redeemed" and second.json()["first_entry"]["gate"] == "G-1"
        without = await client.post("/api/v1/checkin/redeem", json={**body, "nonce": "tablet-3"})
        assert without.status_code == 403


async def test_scan_page_speaks_english_when_asked():
    await open_venue()
    async with signed_in(Role.GATE, "wang") as client:
        client.cookies.set("lang", "en")
        page = (await client.get("/gate/scan/G-1")).text
    texts = json.loads(
        re.search(r'<script type="application/json" id="gate-texts">(.*?)</script>', page, re.S).group(1)
    )
    assert texts["statuses"]["ok"] == "Admit" and texts["statuses"]["already_redeemed"] == "Already admitted"
    assert "All sessions of this gate" in page
    assert "Revocation list stale: refunded tickets may still pass." in page  # the offline list's notice
    assert texts["reasons"]["revoked"].startswith("This ticket was refunded")


async def test_the_page_syncs_its_gate_and_uploads_its_offline_journal_with_the_staff_session():
    """The tablet's offline mode uses the device API with the attendant's session: GET sync names the gate (the
    snapshot, then the revocation delta since its number); the journal needs the page's CSRF token."""
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    async with http_client() as anonymous:
        assert (await anonymous.get("/api/v1/checkin/sync?gate=G-1")).status_code == 401
    async with signed_in(Role.SELLER, "seller") as seller:
        assert (await seller.get("/api/v1/checkin/sync?gate=G-1")).status_code == 403
    async with signed_in(Role.GATE, "wang") as client:
        page = (await client.get(f"/gate/scan/G-1?session={world['session']}&sync=0&stale=1")).text
        assert 'data-sync-ms="1000"' in page and 'data-stale-ms="2000"' in page  # clamped to their ranges
        csrf = json.loads(re.search(r"hx-headers='([^']+)'", page).group(1))["x-csrftoken"]
        assert (await client.get("/api/v1/checkin/sync")).status_code == 422  # which gate?
        assert (await client.get("/api/v1/checkin/sync?gate=NOPE")).status_code == 404
        snapshot = (await client.get("/api/v1/checkin/sync?gate=g-1")).json()
        assert snapshot["gate"] == "G-1" and world["session"] in [s["id"] for s in snapshot["sessions"]]
        delta = (await client.get(f"/api/v1/checkin/sync?gate=G-1&since={snapshot['revocation_seq']}")).json()
        assert delta == {
            "since": snapshot["revocation_seq"],
            "upto": snapshot["revocation_seq"],
            "revoked": [],
            "restored": [],
        }
        entry = {
            "nonce": "tablet-offline-1",
            "code": ticket["code"],
            "direction": "in",
            "at": "2026-12-01T08:00:00+00:00",
            "status": "ok",
            "reason_code": "welcome",
        }
        journal = {"gate": "G-1", "entries": [entry]}
        assert (await client.post("/api/v1/checkin/journal", json=journal)).status_code == 403  # no CSRF token
        first = await client.post("/api/v1/checkin/journal", json=journal, headers={"x-csrftoken": csrf})
        again = await client.post("/api/v1/checkin/journal", json=journal, headers={"x-csrftoken": csrf})
    assert first.json()["recorded"] == 1 and again.json() == {"recorded": 0, "already_recorded": 1, "conflicts": 0}
    [scan] = await Scan.select(Scan.offline, Scan.attendant).where(Scan.ticket == ticket["id"])
    assert scan["offline"] is True and scan["attendant"] is not None  # the attendant who scanned offline
