"""Camera client latency (issue 4): frame arrival -> decoded -> redeemed in the local database -> verdict
screen rendered, for each ticket shown in a real video file (cv2.VideoWriter, 1280x720, codes at a
hand-held size with noise and blur). Prints p50/p95 of that time (target p95 < 150 ms).

It prepares the database it is given (default: a fresh SQLite file under var/) with a venue, a gate and a
session open for admission with --tickets tickets, writes the video, and drives the real client
(scanner.client.GateClient + run_frames, the same code as `python -m scanner`), rendering each verdict
with scanner.verdict_ui.VerdictScreen as the window would.

    .venv/bin/python bench/frame_to_verdict.py
    .venv/bin/python bench/frame_to_verdict.py --database-url postgresql://postgres@127.0.0.1:5432/tc_bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.server import percentile  # noqa: E402


async def prepare(tickets: int) -> tuple[str, list[str]]:
    from bench.redeem import issue_tickets
    from db.catalog import operations as catalog
    from db.core.actor import Actor
    from db.migrate import migrate

    await migrate()
    tag = uuid.uuid4().hex[:6]
    actor = Actor.system("bench")
    venue = await catalog.create_venue(actor, f"摄像头压测场 {tag}", "南京")
    code = f"FV{tag}"
    gate = await catalog.add_gate(actor, venue, code, "摄像头检票口")
    _, codes = await issue_tickets(venue, [gate], tickets, tag, 10)
    return code.upper(), codes


def write_video(path: Path, codes: list[str]) -> None:
    import cv2
    import numpy as np
    import segno

    fps, width, height = 15, 1280, 720
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    rng = np.random.default_rng(1)
    blank = np.full((height, width), 110, np.float32)
    for code in codes + [None]:
        symbol = None
        if code:
            matrix = np.pad(
                np.array([[0 if d else 255 for d in row] for row in segno.make_qr(code, error="m").matrix], np.uint8),
                4,
                constant_values=255,
            )
            symbol = cv2.resize(matrix, None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
        for i in range(fps * 2):  # 1 s of code, 1 s without
            frame = blank.copy()
            if symbol is not None and i < fps:
                h, w = symbol.shape
                y, x = (height - h) // 2 + int(5 * np.sin(i / 3)), (width - w) // 2 + int(8 * np.cos(i / 4))
                frame[y : y + h, x : x + w] = symbol * 0.8 + 25
            frame = cv2.GaussianBlur(frame, (0, 0), 1.0) + rng.normal(0, 4, frame.shape)
            writer.write(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()


async def run(gate: str, video: Path, workdir: Path) -> tuple[list[float], list[float], dict[str, int]]:
    from scanner.client import Debouncer, GateClient, run_frames
    from scanner.sources import open_source
    from scanner.verdict_ui import VerdictScreen

    client = GateClient(gate, journal_path=workdir / "journal.jsonl", cache_path=workdir / "cache.json")
    await client.start()
    screen = VerdictScreen("zh_CN", sound=False)
    screen.render(None, False)  # load the font before timing
    totals: list[float] = []
    renders: list[float] = []
    statuses: dict[str, int] = {}

    def on_verdict(verdict, t, arrival, frame):
        before = time.perf_counter()
        screen.render(verdict, verdict["offline"])
        done = time.perf_counter()
        totals.append(done - arrival)
        renders.append(done - before)
        statuses[verdict["status"]] = statuses.get(verdict["status"], 0) + 1

    try:
        await run_frames(client, open_source(str(video)), Debouncer(ready_after=1.5), on_verdict)
    finally:
        await client.close()
    return totals, renders, statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file under var/")
    parser.add_argument("--tickets", type=int, default=40)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="frame-to-verdict-", dir=REPO / "var"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    from piccolo.engine.finder import engine_finder
    from piccolo.engine.postgres import PostgresEngine

    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        gate, codes = await prepare(args.tickets)
        video = workdir / "gate.avi"
        write_video(video, codes)
        totals, renders, statuses = await run(gate, video, workdir)
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
    database = os.environ["DATABASE_URL"].split("://")[0]
    print(f"frame-to-verdict bench: {database}, {len(codes)} tickets shown 1 s each in a 1280x720 MJPG video ({video})")
    print(f"  verdicts              {len(totals)} {dict(sorted(statuses.items()))}")
    print(
        f"  frame -> verdict shown p50 {percentile(totals, 50) * 1000:.1f} ms, "
        f"p95 {percentile(totals, 95) * 1000:.1f} ms, "
        f"max {max(totals) * 1000:.1f} ms"
    )
    print(f"  of which rendering     p50 {statistics.median(renders) * 1000:.1f} ms")
    print(f"  load average           {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
