"""Command line of the gate scanner:

    python -m scanner --gate GATE --source SOURCE [--headless] [--session ID] [--ready-after SECONDS]
                      [--offline-timeout SECONDS] [--journal PATH] [--cache PATH] [--token TOKEN]
                      [--direction in|out] [--realtime] [--lang zh_CN|en] [--no-sound]
    python -m scanner --decode-only --source DIR

SOURCE is a camera index, a video file or a folder of images. The database is DATABASE_URL's.
The window shows each verdict full screen (q or Esc quits); a ticket's short number typed on the keyboard
(digits, Backspace, Enter) is checked like a scanned code; --headless prints one JSON line per verdict
instead. Both exit at the end of a video file or folder."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from db.core.engine import ROOT
from db.core.i18n import seat_label


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scanner", description="Gate scanner (QR codes only).")
    parser.add_argument("--gate", help="gate this scanner admits at")
    parser.add_argument("--source", required=True, help="camera index, video file or folder of images")
    parser.add_argument("--headless", action="store_true", help="print one JSON line per verdict, no window")
    parser.add_argument(
        "--decode-only", action="store_true", help="print one JSON line per image of a folder; no database"
    )
    parser.add_argument("--session", type=int, help="admit only this session's tickets (default: any of the gate's)")
    parser.add_argument("--ready-after", type=float, default=2.0, help="seconds a verdict stays before the next scan")
    parser.add_argument(
        "--offline-timeout", type=float, default=1.5, help="seconds to wait for the database before going offline"
    )
    parser.add_argument(
        "--probe-interval", type=float, default=1.0, help="seconds between reconnection attempts while offline"
    )
    parser.add_argument(
        "--revocation-max-age",
        type=float,
        default=300.0,
        help="seconds after which an offline revocation list is shown as stale (screen and --headless)",
    )
    parser.add_argument("--journal", help="offline journal (JSON lines); default var/scanner/GATE.journal.jsonl")
    parser.add_argument("--cache", help="offline cache file; default var/scanner/GATE.cache.json")
    parser.add_argument(
        "--token", default=os.environ.get("GATE_DEVICE_TOKEN"), help="this device's token (or GATE_DEVICE_TOKEN)"
    )
    parser.add_argument("--direction", choices=("in", "out"), default="in", help="entry (in) or exit (out) scanner")
    parser.add_argument("--realtime", action="store_true", help="play a video file at its own speed, like a camera")
    parser.add_argument("--lang", default="zh_CN", choices=("zh_CN", "en"), help="language of the verdict screen")
    parser.add_argument("--no-sound", action="store_true", help="no verdict sound")
    return parser


def headless_line(verdict: dict, t: float) -> str:
    """One verdict as a JSON line for machines and logs: reason, seat and attention text in English."""
    ticket = verdict.get("ticket") or {}
    seat = seat_label(**ticket["seat"], language="en") if ticket.get("seat") else None
    return json.dumps(
        {
            "status": verdict["status"],
            "reason": verdict["reason"],
            "reason_code": verdict["reason_code"],
            "ticket_id": ticket.get("id"),
            "seat": seat,
            "class": ticket.get("class"),
            "attention": verdict["attention"],
            "attention_text": verdict["attention_text"],
            "offline": verdict["offline"],
            "revocation_list_stale": bool(verdict.get("revocation_list_stale")),
            "t": round(t, 3),
        },
        ensure_ascii=False,
    )


async def run_camera(args: argparse.Namespace) -> int:
    from piccolo.engine.postgres import PostgresEngine

    from db.core.engine import close_engine
    from db.core.errors import DomainError
    from db.gate.rules import Direction
    from db.gate.tables import Scan
    from scanner.client import Debouncer, GateClient, run_frames
    from scanner.sources import open_source

    frames = open_source(args.source)
    state_dir = ROOT / "var" / "scanner"
    client = GateClient(
        args.gate,
        session_id=args.session,
        offline_timeout=args.offline_timeout,
        probe_interval=args.probe_interval,
        journal_path=Path(args.journal or state_dir / f"{args.gate.upper()}.journal.jsonl"),
        cache_path=Path(args.cache or state_dir / f"{args.gate.upper()}.cache.json"),
        token=args.token,
        revocation_max_age=args.revocation_max_age,
    )
    engine = Scan._meta.db
    if isinstance(engine, PostgresEngine):  # min_size 0: starting must not need the database
        await engine.start_connection_pool(min_size=0, max_size=2, timeout=args.offline_timeout)
    debouncer = Debouncer(ready_after=args.ready_after)
    try:
        await client.start()
        if args.headless:

            def on_verdict(verdict, t, arrival, frame):
                print(headless_line(verdict, t), flush=True)

            await run_frames(
                client, frames, debouncer, on_verdict, direction=Direction(args.direction), realtime=args.realtime
            )
        else:
            await _run_window(args, client, frames, debouncer, Direction(args.direction))
    except DomainError as exc:
        print(f"error: {exc.message.format(**exc.params)}", file=sys.stderr)
        return 2
    finally:
        await client.close()
        if isinstance(engine, PostgresEngine):
            await _close_pool(engine)
        else:
            await close_engine(engine)
    return 0


async def _close_pool(engine) -> None:
    """Close the pool; a connection attempt left hanging by an outage must not keep the client from exiting."""
    try:
        await asyncio.wait_for(engine.pool.close(), 5)
    except TimeoutError:
        engine.pool.terminate()
    engine.pool = None


async def _run_window(args, client, frames, debouncer, direction) -> None:
    """The verdict full screen for --ready-after seconds, else the live picture. At the end of a video file or
    folder the last verdict stays its full time, then the client exits; q or Esc quits at any time."""
    from scanner.client import run_frames
    from scanner.keypad import Keypad
    from scanner.verdict_ui import VerdictScreen
    from scanner.window import Window

    window = Window()
    screen = VerdictScreen(args.lang, sound=not args.no_sound)
    shown = {"until": 0.0, "image": screen.render(None, not client.online)}
    keypad, typed = Keypad(), {"number": None}

    def on_verdict(verdict, t, arrival, frame):
        shown["image"], shown["until"] = screen.render(verdict, verdict["offline"]), time.monotonic() + args.ready_after
        screen.beep(verdict)
        return window.show(shown["image"])

    def on_frame(frame, t):
        if time.monotonic() < shown["until"]:
            keep = window.show(shown["image"])
        elif keypad.digits:  # the number typed so far replaces the picture until Enter
            keep = window.show(screen.render(None, not client.online, keypad.digits))
        else:
            keep = window.show(_with_banner(screen, frame, not client.online))
        typed["number"] = keypad.feed(window.last_key)
        return keep

    def typed_number():
        number, typed["number"] = typed["number"], None
        return number

    try:
        await run_frames(
            client,
            frames,
            debouncer,
            on_verdict,
            on_frame=on_frame,
            direction=direction,
            realtime=args.realtime,
            typed=typed_number,
        )
        while not window.quit and time.monotonic() < shown["until"]:  # the file ended: the last verdict stays
            window.show(shown["image"], wait_ms=20)
            await asyncio.sleep(0)
    finally:
        window.close()


def _with_banner(screen, frame, offline: bool):
    """The live camera picture, under the offline banner while offline."""
    if not offline:
        return frame
    import cv2

    from scanner.verdict_ui import BANNER_HEIGHT

    banner = screen.render(None, True)[:BANNER_HEIGHT]
    out = cv2.resize(frame, (banner.shape[1], int(frame.shape[0] * banner.shape[1] / frame.shape[1])))
    out[:BANNER_HEIGHT] = banner
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.decode_only:
        from scanner.decode_only import run_decode_only

        try:
            return run_decode_only(args.source)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if not args.gate:
        print("error: --gate is required (the gate code, e.g. MC-1)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        code = _run_to_completion(run_camera(args))
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _exit_past_abandoned_database_threads(code)
    return code


def _run_to_completion(main_coroutine) -> int:
    """Like asyncio.run, but without waiting on tasks still pending after the client is done: a database
    connection attempt stranded by an outage must not keep the gate client from exiting."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main_coroutine)
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))  # deliver the cancellations once
        loop.close()


def _exit_past_abandoned_database_threads(code: int) -> None:
    """A database call abandoned at its offline timeout can leave a driver thread (aiosqlite's worker)
    waiting forever; Python would wait for it at exit. The client's own work is done and flushed: exit."""
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
