"""A least-privilege PostgreSQL role for gate PCs (issue 14, R6.3): the camera client connects with it and
can do what a gate does (read the catalog, the tickets and whether their order is paid; record admissions,
scans, conflicts; sync) and nothing else: no buyer's name, phone or e-mail, no writing of orders, payments
or tickets, no staff accounts. A stolen gate PC then does not hold the keys to the sales data.

    python -m db.ops.gate_role create tc_gate --password 'long random secret'

run as a database owner (DATABASE_URL names the production database), creates the role or updates its
password, and (re)grants exactly the privileges below; run it again after an upgrade that adds gate tables.
It prints the DATABASE_URL for the gate PC."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from piccolo.conf.apps import Finder

from db.core.engine import database_url

# Read in full: the catalog (venues, seats, events, sessions, gates, prices), the concession names and the
# numbered log of revoked tickets (offline gates sync it as a delta).
READ_APPS = ("catalog",)
READ_TABLES = ("sales_concession_kind", "ticket_revocation")
# Read, insert, update: everything the gate app owns (devices, admissions, scans, conflicts).
WRITE_APPS = ("gate",)
# Only these columns: a ticket and whether its order is paid, never who bought it.
COLUMNS = {
    "ticket": (
        "id",
        '"order"',
        "session",
        "price_class",
        "seat",
        "price_fen",
        "concession",
        "status",
        "code",
        "short_code",  # the typed short ticket number (issue 15)
        "issued_at",
    ),
    "sales_order": ("id", "session", "status"),
    # a real-name ticket's holder as the gate shows it (issue 13): never the ID's keyed hash
    "inventory_ticket_holder": ("id", "ticket", "session", "name", "id_masked"),
    "audit_entry": ("id",),  # Piccolo's INSERT ... RETURNING id of the gate's own audit records
}
APPEND_ONLY = ("audit_entry",)  # a gate's own audit records
# PostgreSQL lets SELECT ... FOR SHARE (the redeem locks the ticket it admits, so that a refund cannot void it
# in the same instant) only with an UPDATE privilege on some column: the gate gets it on issued_at alone,
# which no admission, payment or report decision reads. Status, order, code and price stay read-only.
LOCKABLE = {"ticket": "issued_at"}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _tables_of(app_names: tuple[str, ...]) -> list[str]:
    registry = Finder().get_app_registry()
    return sorted(t._meta.tablename for name in app_names for t in registry.get_app_config(name).table_classes)


def statements(role: str, database: str) -> list[str]:
    quoted = f'"{role}"'
    out = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}',
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
    ]
    for table in [*_tables_of(READ_APPS), *READ_TABLES]:
        out.append(f'GRANT SELECT ON "{table}" TO {quoted}')
    for table, columns in COLUMNS.items():
        out.append(f'GRANT SELECT ({", ".join(columns)}) ON "{table}" TO {quoted}')
    for table, column in LOCKABLE.items():
        out.append(f'GRANT UPDATE ({column}) ON "{table}" TO {quoted}')
    for table in [*_tables_of(WRITE_APPS), *APPEND_ONLY]:
        privileges = "INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE"
        out.append(f'GRANT {privileges} ON "{table}" TO {quoted}')
        out.append(
            f"DO $$ BEGIN IF pg_get_serial_sequence('\"{table}\"', 'id') IS NOT NULL THEN "
            f"EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {quoted}', pg_get_serial_sequence('\"{table}\"', 'id')); "
            "END IF; END $$"
        )
    return out


async def create(role: str, password: str | None, url: str | None = None) -> str:
    """Create (or update) the gate role on the database at `url`; the DATABASE_URL a gate PC uses."""
    if not _NAME.fullmatch(role):
        raise ValueError("a role name is lower-case letters, digits and underscores, starting with a letter")
    url = url or database_url()
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            secret = "PASSWORD " + "'" + password.replace("'", "''") + "'" if password else ""
            await conn.execute(f'{verb} ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {secret}')
            for statement in statements(role, database):
                await conn.execute(statement)
    finally:
        await conn.close()
    host = parts.hostname or "localhost"
    secret = ":" + quote(password, safe="") if password else ""
    netloc = f"{role}{secret}@{host}{':' + str(parts.port) if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.ops.gate_role", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="create or update the role and grant the gate's privileges")
    made.add_argument("role")
    made.add_argument("--password", default=None)
    args = parser.parse_args(argv)
    if not database_url().startswith(("postgres://", "postgresql://")):
        print("gate_role: DATABASE_URL must name the PostgreSQL database", file=sys.stderr)
        return 1
    gate_url = asyncio.run(create(args.role, args.password))
    print(gate_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
