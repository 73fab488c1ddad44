"""PostgreSQL streaming replication for one lost server (R9.2, issue 14): a synchronous hot standby, so that a
committed payment is on both servers, and promotion of the standby when the primary is gone.

    python -m db.ops.replication standby --primary-host 10.0.0.1 --primary-port 5432 \\
        --data /var/lib/postgresql/15/standby --port 5432 --name standby1

run as the `postgres` system user on the standby machine: copies the primary with pg_basebackup (-R: the copy
starts as a standby streaming from the primary, named `--name`), starts it, and makes the primary wait for it
at every commit (synchronous_standby_names; the primary's pg_hba.conf must allow the replication connection).

    python -m db.ops.replication promote --data /var/lib/postgresql/15/standby

makes the standby the primary. The service needs no restart: give it every server in DATABASE_URL,
`postgresql://user@host1:5432,host2:5432/ticketcenter?target_session_attrs=read-write` (libpq's multi-host
form, which asyncpg follows): new connections go to whichever server accepts writes. Reports may read from
the standby (DATABASE_REPLICA_URL).

The functions below are what the command runs and what tests/ops/test_failover.py uses on clusters of its
own."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*command: str) -> list[str]:
    """Run as the postgres system user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(_as_postgres(*command), check=check, capture_output=True, text=True)


def _prepare_folder(data: Path) -> None:
    data.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres:postgres", str(data.parent)], check=True)


def init_primary(data: Path, port: int, standby_name: str | None = None) -> None:
    """A new primary cluster on 127.0.0.1:`port` (trust authentication on the loopback), waiting at each
    commit for `standby_name` when given."""
    _prepare_folder(data)
    run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    settings = {
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{data.parent}'",
        "wal_level": "replica",
        "max_wal_senders": "5",
        "hot_standby": "on",
        "synchronous_commit": "on",
        "fsync": "on",
        "max_connections": "60",
    }
    if standby_name:
        settings["synchronous_standby_names"] = f"'{standby_name}'"
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    start(data)


def start(data: Path) -> None:
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / f"{data.name}.log"), "-w", "start")


def make_standby(primary_host: str, primary_port: int, data: Path, port: int, name: str) -> None:
    """Copy the primary into `data` and start it as a hot standby named `name`, streaming from the primary."""
    _prepare_folder(data)
    run(
        str(PG_BIN / "pg_basebackup"),
        "-d",
        f"host={primary_host} port={primary_port} user=postgres application_name={name}",
        "-D",
        str(data),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    )
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {port}\nunix_socket_directories = '{data.parent}'\nsynchronous_standby_names = ''\n")
    start(data)


def require_synchronous(primary_host: str, primary_port: int, name: str) -> None:
    """Make the primary wait for the standby `name` at every commit."""
    run(
        str(PG_BIN / "psql"),
        "-h",
        primary_host,
        "-p",
        str(primary_port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        f"ALTER SYSTEM SET synchronous_standby_names = '{name}'",
        "-c",
        "SELECT pg_reload_conf()",
    )


def wait_synchronous(primary_host: str, primary_port: int, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = run(
            str(PG_BIN / "psql"),
            "-h",
            primary_host,
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{name}'",
            check=False,
        ).stdout.strip()
        if state == "sync":
            return
        time.sleep(0.3)
    raise RuntimeError(f"the standby {name} did not become synchronous")


def promote(data: Path) -> None:
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "promote")


def stop(data: Path) -> None:
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.ops.replication", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    standby = commands.add_parser("standby", help="copy the primary and start a synchronous hot standby")
    standby.add_argument("--primary-host", required=True)
    standby.add_argument("--primary-port", type=int, default=5432)
    standby.add_argument("--data", type=Path, required=True)
    standby.add_argument("--port", type=int, default=5432)
    standby.add_argument("--name", default="standby1")
    promoted = commands.add_parser("promote", help="make the standby the primary")
    promoted.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "standby":
        make_standby(args.primary_host, args.primary_port, args.data, args.port, args.name)
        require_synchronous(args.primary_host, args.primary_port, args.name)
        wait_synchronous(args.primary_host, args.primary_port, args.name)
        print(f"standby {args.name} on port {args.port} is synchronous with {args.primary_host}:{args.primary_port}")
    else:
        promote(args.data)
        print(f"{args.data} is now the primary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
