"""The camera client end to end (issue 4): `python -m scanner --headless` reads real video files
(cv2.VideoWriter) showing issued tickets' codes and talks to the test database through DATABASE_URL.
Online verdicts for every kind of ticket, a code held for many frames counts once, and offline
scanning through real database outages (a stopped TCP forwarder on PostgreSQL, a vanished database
directory on SQLite), with the journal uploaded and conflicts flagged when the database is back (R9.2)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from db.gate.redeem import redeem
from db.gate.tables import Admission, GateConflict, Scan
from db.sales.tables import Order
from db.sales.tickets.codes import sign
from tests.gate.outage import outage_for
from tests.gate.tickets import issue_ticket, open_venue
from tests.gate.videos import write_video

REPO = Path(__file__).resolve().parents[2]


async def start_client(
    video: Path, tmp: Path, *extra: str, database_url: str | None = None, display: str | None = None
) -> asyncio.subprocess.Process:
    """`python -m scanner` at gate G-1 on `video`: --headless, or its window on the X `display` ("" for none)."""
    env = {**os.environ, "DATABASE_URL": database_url or os.environ["DATABASE_URL"]}
    if display is not None:
        env["DISPLAY"] = display
    mode = ["--headless"] if display is None else []
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scanner",
        "--gate",
        "G-1",
        "--source",
        str(video),
        *mode,
        "--ready-after",
        "1",
        "--journal",
        str(tmp / "journal.jsonl"),
        "--cache",
        str(tmp / "cache.json"),
        *extra,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_verdict(process: asyncio.subprocess.Process) -> dict:
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if not line:
        raise AssertionError(f"client ended early: {(await process.stderr.read()).decode()[-2000:]}")
    return json.loads(line)


async def run_to_end(video: Path, tmp: Path, *extra: str, database_url: str | None = None) -> list[dict]:
    process = await start_client(video, tmp, *extra, database_url=database_url)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 180)
    except TimeoutError:
        process.kill()
        raise AssertionError(f"client did not finish: {(await process.stderr.read()).decode()[-2000:]}") from None
    assert process.returncode == 0, err.decode()[-2000:]
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_headless_client_gives_each_ticket_its_verdict_once(tmp_path):
    world = await open_venue()
    valid = await issue_ticket(world["session"])
    student = await issue_ticket(world["session"], concession="student")
    revoked = await issue_ticket(world["session"], order_status="refunded")
    too_early = await issue_ticket(world["later"])
    elsewhere = await issue_ticket(world["elsewhere"])
    forged = sign(Ed25519PrivateKey.generate(), 1, valid["id"], world["session"], False)
    altered = valid["code"][:60] + ("B" if valid["code"][60] != "B" else "C") + valid["code"][61:]
    shown = [
        valid["code"],
        forged,
        altered,
        revoked["code"],
        elsewhere["code"],
        too_early["code"],
        student["code"],
        valid["code"],
    ]
    segments = [(None, 0.6)]
    for code in shown:
        segments += [(code, 1.5), (None, 1.0)]  # each code held for 15 frames
    video = write_video(tmp_path / "gate.avi", segments)
    lines = await run_to_end(video, tmp_path)
    assert [line["status"] for line in lines] == [
        "ok",
        "invalid",
        "invalid",
        "revoked",
        "wrong_session",
        "invalid_time",
        "ok",
        "already_redeemed",
    ]
    assert all(line["offline"] is False for line in lines)
    assert lines[0]["ticket_id"] == valid["id"] and lines[0]["class"] == "站票" and lines[0]["attention"] is False
    assert lines[0]["attention_text"] == ""
    assert lines[6]["attention"] is True and lines[6]["ticket_id"] == student["id"]
    assert lines[6]["attention_text"] == "Student concession: check the ID before letting the visitor in."
    assert [round(line["t"]) for line in lines] == [round(0.6 + 2.5 * i) for i in range(8)]
    assert await Scan.count() == 8
    assert await Admission.count() == 2


async def test_session_bound_scanner_refuses_other_sessions_and_frames_without_codes_do_nothing(tmp_path):
    world = await open_venue()
    seated = await issue_ticket(world["seated"])
    standing = await issue_ticket(world["session"])
    video = write_video(
        tmp_path / "gate.avi", [(None, 1.0), (standing["code"], 1.5), (None, 1.5), (seated["code"], 1.5), (None, 2.0)]
    )
    lines = await run_to_end(video, tmp_path, "--session", str(world["seated"]))
    assert [line["status"] for line in lines] == ["wrong_session", "ok"]
    assert lines[1]["seat"].startswith("A")
    empty = write_video(tmp_path / "empty.avi", [(None, 3.0)])
    assert await run_to_end(empty, tmp_path) == []
    assert await Scan.count() == 2


async def test_client_switches_to_offline_and_back_by_itself(tmp_path):
    world = await open_venue()
    before = await issue_ticket(world["session"])
    refunded = await issue_ticket(world["session"])
    await Order.update({Order.status: "refunded"}).where(Order.id == refunded["order_id"])  # refunded before the sync
    doubled = await issue_ticket(world["session"])
    late_seller = await issue_ticket(world["session"])  # only its id is reserved now; see below
    after = await issue_ticket(world["session"])
    much_later = await issue_ticket(world["session"])
    gap = (None, 3.0)
    segments = [
        (None, 0.5),
        (before["code"], 1.0),
        gap,
        (late_seller["code"], 1.0),
        (None, 1.0),
        (refunded["code"], 1.0),
        (None, 1.0),
        (doubled["code"], 1.0),
        (None, 1.0),
        (before["code"], 1.0),
        (None, 9.0),
        (after["code"], 1.0),
        (None, 4.0),
        (much_later["code"], 1.0),
        (None, 1.0),
    ]
    video = write_video(tmp_path / "gate.avi", segments)
    async with outage_for(os.environ["DATABASE_URL"], tmp_path) as outage:
        process = await start_client(
            video, tmp_path, "--realtime", "--offline-timeout", "1", "--probe-interval", "0.3", database_url=outage.url
        )
        first = await read_verdict(process)
        assert (first["status"], first["offline"]) == ("ok", False)
        # the client synced at start; this ticket is paid for a minute before the outage (not in its cache)
        await Order.update({Order.status: "paid"}).where(Order.id == late_seller["order_id"])
        await outage.cut()
        offline = [await read_verdict(process) for _ in range(4)]
        # meanwhile another gate, online, admits the ticket this gate is admitting offline
        assert (await redeem(doubled["code"], "G-2"))["status"] == "ok"
        await outage.restore()
        later = [await read_verdict(process) for _ in range(2)]
        _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()[-2000:]
    assert [(v["status"], v["offline"]) for v in offline] == [
        ("ok", True),
        ("revoked", True),
        ("ok", True),
        ("already_redeemed", True),
    ]
    assert [(v["status"], v["ticket_id"]) for v in later] == [("ok", after["id"]), ("ok", much_later["id"])]
    # back online by itself: 9 s after the network returns, or 14 s on a loaded machine (CI runs both engines
    # at once), never later; a ticket seen before the client noticed is admitted offline and uploaded
    assert later[-1]["offline"] is False
    admitted_offline = [(after["id"], "ok")] if later[0]["offline"] else []
    # the journal is uploaded with the original times; the double admission is flagged, not undone
    rows = (
        await Scan.select(Scan.ticket, Scan.status, Scan.offline, Scan.at)
        .where(Scan.offline.eq(True))
        .order_by(Scan.at)
    )
    assert [(r["ticket"], r["status"]) for r in rows] == [
        (late_seller["id"], "ok"),
        (refunded["id"], "revoked"),
        (doubled["id"], "ok"),
        (before["id"], "already_redeemed"),
        *admitted_offline,
    ]
    admitted = await Admission.select(Admission.first_entry_at).where(Admission.ticket == late_seller["id"]).first()
    assert admitted["first_entry_at"] == rows[0]["at"]
    conflicts = await GateConflict.select(GateConflict.ticket, GateConflict.gate.code, GateConflict.first_gate.code)
    assert conflicts == [{"ticket": doubled["id"], "gate.code": "G-1", "first_gate.code": "G-2"}]
    assert (tmp_path / "journal.jsonl").read_text() == ""
    assert len((tmp_path / "journal.jsonl.uploaded").read_text().splitlines()) == 4 + len(admitted_offline)


async def test_restart_while_offline_uses_the_saved_cache_and_its_own_journal(tmp_path):
    world = await open_venue()
    admitted = await issue_ticket(world["session"])
    refunded = await issue_ticket(world["session"], order_status="refunded")
    first_video = write_video(tmp_path / "first.avi", [(None, 0.5), (admitted["code"], 1.0), (None, 0.5)])
    async with outage_for(os.environ["DATABASE_URL"], tmp_path) as outage:
        assert [v["status"] for v in await run_to_end(first_video, tmp_path, database_url=outage.url)] == ["ok"]
        sold_since = await issue_ticket(world["session"])
        await outage.cut()
        offline_video = write_video(
            tmp_path / "offline.avi",
            [
                (None, 0.5),
                (admitted["code"], 1.0),
                (None, 1.0),
                (refunded["code"], 1.0),
                (None, 1.0),
                (sold_since["code"], 1.0),
                (None, 1.0),
            ],
        )
        lines = await run_to_end(offline_video, tmp_path, "--offline-timeout", "1", database_url=outage.url)
        assert [(v["status"], v["offline"]) for v in lines] == [
            ("already_redeemed", True),
            ("revoked", True),
            ("ok", True),
        ]
        # restarted again, still offline: its own journal says sold_since is inside
        again = write_video(tmp_path / "again.avi", [(None, 0.5), (sold_since["code"], 1.0), (None, 0.5)])
        assert [
            v["status"] for v in await run_to_end(again, tmp_path, "--offline-timeout", "1", database_url=outage.url)
        ] == ["already_redeemed"]
        assert await Scan.count() == 1
        await outage.restore()
        blank = write_video(tmp_path / "blank.avi", [(None, 1.0)])
        assert await run_to_end(blank, tmp_path, database_url=outage.url) == []  # uploads the journal at start
    assert await Scan.count().where(Scan.offline == True) == 4  # noqa: E712
    assert await Admission.exists().where(Admission.ticket == sold_since["id"])
    assert await GateConflict.count() == 0
