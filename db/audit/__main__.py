"""`python -m db.audit verify | seal`: check the audit chain (exit 1 naming the first broken entry), or seal
the entries written since the last seal (the service does this every few seconds)."""

from __future__ import annotations

import argparse
import sys

from db.audit import chain
from db.core.engine import run_tool


async def _verify() -> int:
    verdict = await chain.verify()
    if verdict.problem is not None:
        print(f"audit chain BROKEN: {verdict.problem.text()}", file=sys.stderr)
        print(f"checked {verdict.checked} entries in order before the problem", file=sys.stderr)
        return 1
    sealed_at = verdict.last_sealed_at.isoformat(timespec="seconds") if verdict.last_sealed_at else "never"
    print(
        f"audit chain ok: {verdict.checked} entries verified, head at place {verdict.head_seq}, "
        f"last sealed {sealed_at}, {verdict.unsealed} written since (not sealed yet)"
    )
    return 0


async def _seal() -> int:
    print(f"sealed {await chain.seal()} entries")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.audit", description=__doc__)
    parser.add_argument("command", choices=["verify", "seal"])
    args = parser.parse_args(argv)
    result: list[int] = []

    async def run() -> None:
        result.append(await (_verify() if args.command == "verify" else _seal()))

    run_tool(run())
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
