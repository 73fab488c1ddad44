"""Command line of the gate scanner: ``python -m scanner --gate GATE --source SOURCE [--headless]``
or ``python -m scanner --decode-only --source DIR``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scanner", description="Gate scanner (QR codes only).")
    parser.add_argument("--gate", help="gate this scanner admits at")
    parser.add_argument("--source", required=True, help="camera index, video file or folder of images")
    parser.add_argument("--headless", action="store_true", help="print one JSON line per verdict, no window")
    parser.add_argument(
        "--decode-only", action="store_true", help="print one JSON line per image of a folder; no database"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.decode_only:
        from scanner.decode_only import run_decode_only

        try:
            return run_decode_only(args.source)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print("camera mode not available yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
