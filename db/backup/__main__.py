"""`python -m db.backup make | list | verify FILE | restore FILE`: backups of the database DATABASE_URL names.

make     writes a backup into BACKUP_DIR (default var/backups), prints its path, then verifies it
list     the backups in BACKUP_DIR, newest first, with what their last verification found
verify   restores FILE into a scratch database and compares it with its manifest; exit 1 if they differ
restore  verifies FILE, then replaces the live database's content with it (stop the service first)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from db.core.actor import Actor
from db.core.engine import run_tool
from db.ops import backup

ACTOR = Actor.system("db.backup")


async def _make() -> int:
    manifest = await backup.make_recorded(ACTOR)
    path = backup.backup_dir() / manifest.file
    print(path)
    verified = await backup.verify_recorded(ACTOR, path)
    print(f"verified in {verified.seconds:.1f} s: {sum(manifest.snapshot.counts.values())} rows", file=sys.stderr)
    return 0


async def _list() -> int:
    from db.ops.tables import Backup

    known = {r["file"]: r for r in await Backup.select()}
    for path in backup.listed():
        row = known.get(path.name)
        state = "not verified"
        if row and row["verified_at"] is not None:
            when = row["verified_at"].isoformat(timespec="seconds")
            state = f"verified {when}" if row["verified_ok"] else f"FAILED {when}: {row['verify_message']}"
        print(f"{path}\t{path.stat().st_size}\t{state}")
    return 0


async def _verify(file: Path) -> int:
    verified = await backup.verify_recorded(ACTOR, file)
    print(f"{file}: ok, verified in {verified.seconds:.1f} s ({sum(verified.manifest.snapshot.counts.values())} rows)")
    return 0


async def _restore(file: Path) -> int:
    verified = await backup.restore_recorded(ACTOR, file)
    print(
        f"{file}: restored ({sum(verified.manifest.snapshot.counts.values())} rows, made {verified.manifest.made_at})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m db.backup", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("make")
    commands.add_parser("list")
    for name in ("verify", "restore"):
        commands.add_parser(name).add_argument("file", type=Path)
    args = parser.parse_args(argv)
    result: list[int] = []

    async def run() -> None:
        if args.command == "make":
            result.append(await _make())
        elif args.command == "list":
            result.append(await _list())
        elif args.command == "verify":
            result.append(await _verify(args.file))
        else:
            result.append(await _restore(args.file))

    try:
        run_tool(run())
    except backup.BackupError as exc:
        print(f"backup: {exc}", file=sys.stderr)
        return 1
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
