"""Load demo data into the database DATABASE_URL names, after migrating it: `python -m db.demo`.

Safe to run twice: each part checks for its own data before adding it."""

from __future__ import annotations

import importlib

from db.core.actor import Actor
from db.core.engine import run_tool
from db.migrate import migrate

# Each domain that has demo data has a db/<domain>/demo.py with `async def load(actor)`, run in this order.
PARTS = [
    "db.staff.demo",
    "db.catalog.demo",
    "db.sales.demo",
    "db.sales.aftersale.demo",
    "db.gate.demo",
    "db.privacy.demo",
    "db.ops.demo",
    "db.inventory.demo",
    "db.finance.demo",
    "db.sessionchange.demo",
    "db.reports.demo",
    "db.inventory.paper_demo",
]


async def load_demo() -> None:
    await migrate()
    actor = Actor.system("demo")
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        await module.load(actor)


def main() -> None:
    run_tool(load_demo())
    print("demo data loaded")


if __name__ == "__main__":
    main()
