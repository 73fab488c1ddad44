"""The supervisors' live entry dashboard over HTTP (issue 4): who may watch, the figures after real
redeems (admitted, inside = entries - exits, capacity used, per gate, per minute, refusals with reasons,
offline gates, conflicts), and the SSE stream delivering an update within a second of a scan made by
another process (the camera client's way: its own connection; PostgreSQL NOTIFY, SQLite polling)."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import os
import re
import sys
import time
from pathlib import Path

from db.core.engine import engine_name
from db.gate import live
from db.gate.devices import gate_by_code, register_device
from db.gate.redeem import redeem
from db.gate.sync import apply_journal
from db.gate.tables import Scan
from db.staff.permissions import Role
from tests.gate.test_web_tablet import signed_in
from tests.gate.tickets import issue_ticket, open_venue
from tests.helpers import ADMIN_ACTOR

ROOT = Path(__file__).resolve().parents[2]


def figure(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


def gate_row(page: str, code: str) -> dict[str, int]:
    row = re.search(rf'<tr data-gate="{code}".*?</tr>', page, re.S).group(0)
    return {col: int(n) for col, n in re.findall(r'data-col="(\w+)">(\d+)<', row)}


def events(body: str) -> list[tuple[str, str]]:
    """(event name, data) of each SSE message in a finished stream."""
    out = []
    for block in body.split("\r\n\r\n" if "\r\n" in body else "\n\n"):
        lines = block.splitlines()
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if name:
            out.append((name, data))
    return out


async def test_only_gate_monitor_watches():
    world = await open_venue()
    for role, allowed in ((Role.SUPERVISOR, True), (Role.GATE, False), (Role.SELLER, False), (Role.AUDITOR, False)):
        async with signed_in(role, f"m_{role.value}") as client:
            for url in (
                "/gate/live",
                f"/gate/live/{world['session']}",
                f"/gate/live/{world['session']}/stream?seconds=0.2",
            ):
                assert (await client.get(url)).status_code == (200 if allowed else 403), (role, url)


async def test_dashboard_figures_after_real_redeems():
    world = await open_venue(reentry_allowed=True)
    tickets = [await issue_ticket(world["session"]) for _ in range(4)]
    revoked = await issue_ticket(world["session"], status="revoked")
    for ticket, gate in zip(tickets[:3], ("G-1", "G-1", "G-2"), strict=True):
        assert (await redeem(ticket["code"], gate))["status"] == "ok"
    assert (await redeem(tickets[0]["code"], "G-3", direction="out"))["status"] == "ok"  # one left
    assert (await redeem(tickets[1]["code"], "G-2"))["status"] == "already_redeemed"
    assert (await redeem(revoked["code"], "G-1"))["status"] == "revoked"
    assert (await redeem("NOT-A-TICKET", "G-4"))["status"] == "invalid"  # no session: shown at the session's gate
    assert (await redeem("NOT-A-TICKET", "X-1"))["status"] == "invalid"  # another venue's gate: not this session's

    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        page = (await client.get(f"/gate/live/{world['session']}")).text
    assert figure(page, "admitted") == "3"
    assert figure(page, "inside") == "2"  # 3 entries - 1 exit
    assert "入场 3 次 − 离场 1 次" in page and "共 4 张票" in page  # the revoked one is no ticket any more
    assert figure(page, "capacity-used") == "0.4%" and "500 个位置中 2 个" in page  # 2 of 500 places
    assert gate_row(page, "G-1") == {"entries": 2, "exits": 0, "rejected": 1}
    assert gate_row(page, "G-2") == {"entries": 1, "exits": 0, "rejected": 1}
    assert gate_row(page, "G-3") == {"entries": 0, "exits": 1, "rejected": 0}
    refusals = re.search(r'data-testid="rejections">(.*?)</ul>', page, re.S).group(1)
    items = re.findall(r'<li data-status="(\w+)">(.*?)</li>', refusals, re.S)
    assert [status for status, _ in items] == ["invalid", "revoked", "already_redeemed"]  # newest first
    assert "不是本中心的票码" in items[0][1] and "G-4" in items[0][1]
    assert "此票已退、已改签或已取消" in items[1][1]
    assert "此票已于" in items[2][1] and "在 G-1 入场" in items[2][1]
    assert "X-1" not in refusals
    # entries per minute: the three entries are in the chart's last minute
    minutes = [int(n) for n in re.search(r'class="per-minute">\[([^\]]*)\]', page).group(1).split(",")]
    assert len(minutes) == 30 and sum(minutes) == 3 and minutes[-1] == 3


async def test_offline_gates_and_conflicts_are_shown():
    world = await open_venue()
    await register_device(ADMIN_ACTOR, "G-3", "闸机三号", "token-of-gate-3-abc")  # never heard from
    ticket = await issue_ticket(world["session"])
    assert (await redeem(ticket["code"], "G-1"))["status"] == "ok"
    gate2 = await gate_by_code("G-2")
    offline_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    journal = [
        {
            "nonce": "n1",
            "code": ticket["code"],
            "direction": "in",
            "at": offline_at.isoformat(),
            "status": "ok",
            "reason_code": "welcome",
        }
    ]
    assert (await apply_journal(ADMIN_ACTOR, gate2, journal))["conflicts"] == 1

    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        page = html.unescape((await client.get(f"/gate/live/{world['session']}")).text)
    assert figure(page, "alerts") == "2"
    offline = re.search(r'data-testid="offline-gates">(.*?)</ul>', page, re.S).group(1)
    assert "G-3" in offline and "闸机三号 从未连接" in offline and "从未 起" not in offline  # issue 15
    assert 'class="gate-offline"' in page
    conflicts = re.search(r'data-testid="conflicts">(.*?)</ul>', page, re.S).group(1)
    assert f"票 #{ticket['id']} 离线时在 G-2" in conflicts and "首次入场" in conflicts
    assert gate_row(page, "G-2")["entries"] == 1  # the offline admission counts as an entry at G-2


async def test_unknown_session_is_404_before_any_stream():
    await open_venue()
    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        assert (await client.get("/gate/live/999999")).status_code == 404
        response = await client.get("/gate/live/999999/stream?seconds=5")
        assert response.status_code == 404 and "text/event-stream" not in response.headers.get("content-type", "")


async def read_stream(client, url: str) -> asyncio.Task:
    """Start reading a (finite) event stream; returns once the server is watching for scans."""
    before = live.watchers()
    task = asyncio.create_task(client.get(url))
    for _ in range(200):
        if live.watchers() > before:
            return task
        await asyncio.sleep(0.02)
    raise AssertionError("the stream never started watching")


async def test_stream_sends_figures_at_once_and_after_each_scan_in_this_process():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        stream = await read_stream(client, f"/gate/live/{world['session']}/stream?seconds=1.5")
        await asyncio.sleep(0.1)
        await redeem(ticket["code"], "G-1")
        response = await stream
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert "retry: 500" in response.text  # the browser reconnects quickly when the stream ends
    figures = [data for name, data in events(response.text) if name == "figures"]
    admitted = [figure(data, "admitted") for data in figures]
    assert admitted[0] == "0" and set(admitted[1:]) == {"1"} and len(admitted) <= 3  # at once, then after the scan


SCANNER_PROCESS = """
import asyncio, json, sys
from piccolo.engine.postgres import PostgresEngine
from db.gate.redeem import redeem
from db.gate.tables import Scan

async def main():
    if isinstance(Scan._meta.db, PostgresEngine):  # as the camera client and web workers run: the one-statement entry
        await Scan._meta.db.start_connection_pool(min_size=1, max_size=2)
    print("ready", flush=True)
    for line in sys.stdin:
        result = await redeem(line.strip(), "G-2")
        print(json.dumps({"status": result["status"]}), flush=True)

asyncio.run(main())
"""


async def test_stream_updates_within_a_second_of_a_scan_made_by_another_process():
    """The scan is made by a separate process with its own database connection (as the camera client
    or another web worker does): on PostgreSQL its NOTIFY reaches this process's LISTEN connection; on
    SQLite the stream's poll of the newest scan finds it."""
    world = await open_venue()
    tickets = [await issue_ticket(world["session"]) for _ in range(2)]
    scanner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SCANNER_PROCESS,
        cwd=ROOT,
        env={**os.environ},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(scanner.stdout.readline(), 60)).strip() == b"ready"
        async with signed_in(Role.SUPERVISOR, "zhang") as client:
            stream = await read_stream(client, f"/gate/live/{world['session']}/stream?seconds=4")
            assert live.listening() == (
                engine_name(Scan._meta.db) == "postgresql"
            )  # NOTIFY on PostgreSQL, else polling
            done_at = []
            for ticket in tickets:
                scanner.stdin.write(ticket["code"].encode() + b"\n")
                await scanner.stdin.drain()
                assert b'"ok"' in await asyncio.wait_for(scanner.stdout.readline(), 30)
                done_at.append(time.time())
                await asyncio.sleep(1.2)
            response = await stream
    finally:
        scanner.stdin.close()
        await scanner.wait()
    figures = [data for name, data in events(response.text) if name == "figures"]
    admitted = [int(figure(data, "admitted")) for data in figures]
    assert admitted[0] == 0 and admitted[-1] == 2 and 1 in admitted
    # each update left the server within a second of the scan's record
    scans = await Scan.select(Scan.at).where(Scan.session == world["session"]).order_by(Scan.id)
    sent = [dt.datetime.fromisoformat(re.search(r'data-as-of="([^"]+)"', data).group(1)) for data in figures]
    for scan in scans:
        first_after = min(s for s in sent if s >= scan["at"])
        assert (first_after - scan["at"]).total_seconds() < 1.0


async def test_stream_shows_a_conflict_when_an_offline_journal_is_uploaded():
    world = await open_venue()
    ticket = await issue_ticket(world["session"])
    assert (await redeem(ticket["code"], "G-1"))["status"] == "ok"
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat()
    journal = [
        {"nonce": "j1", "code": ticket["code"], "direction": "in", "at": at, "status": "ok", "reason_code": "welcome"}
    ]
    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        stream = await read_stream(client, f"/gate/live/{world['session']}/stream?seconds=1.5")
        await apply_journal(ADMIN_ACTOR, await gate_by_code("G-2"), journal)
        response = await stream
    figures = [data for name, data in events(response.text) if name == "figures"]
    alerts = [figure(data, "alerts") for data in figures]
    assert alerts[0] == "0" and set(alerts[1:]) == {"1"}  # (a poll may notice the upload before its announcement)
    assert 'data-testid="conflicts"' in figures[-1]


async def test_session_list_offers_todays_sessions_only():
    world = await open_venue()
    async with signed_in(Role.SUPERVISOR, "zhang") as client:
        page = (await client.get("/gate/live")).text
    assert f'href="/gate/live/{world["session"]}"' in page and f'href="/gate/live/{world["elsewhere"]}"' in page
    assert f'href="/gate/live/{world["later"]}"' not in page  # admission in two days
