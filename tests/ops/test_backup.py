"""Backups (issue 14, R6.3): made while sales go on, verified by restoring them into a scratch database,
refused with a clear message when damaged or from another version, restorable, kept to a count; the
command line `python -m db.backup`, on both engines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from db.core.actor import Actor
from db.core.engine import ROOT, database_url
from db.ops import backup
from db.ops.tables import Backup
from db.sales.tables import Order, Ticket
from tests.helpers import http_client
from tests.sales.support import AUTH, BUYER, sales_catalog

ACTOR = Actor.system("test")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "db.backup", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextlib.asynccontextmanager
async def other_database(tmp_path: Path):
    """An empty database of the engine under test to restore into (a file, or a database on the server)."""
    url = database_url()
    if not backup.is_postgres(url):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"tc_restore_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield backup._with_database(url, name)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def paid_orders_in(url: str) -> dict[str, int]:
    """code -> number of issued tickets of every paid order in the database at `url`."""
    query = (
        'SELECT o.code, count(t.id) AS tickets FROM sales_order o LEFT JOIN ticket t ON t."order" = o.id '
        "WHERE o.status = 'paid' GROUP BY o.code"
    )
    if backup.is_postgres(url):
        conn = await asyncpg.connect(url)
        try:
            return {r["code"]: r["tickets"] for r in await conn.fetch(query)}
        finally:
            await conn.close()
    import sqlite3

    with contextlib.closing(sqlite3.connect(backup.sqlite_path(url))) as conn:
        return dict(conn.execute(query).fetchall())


async def test_a_backup_taken_in_the_middle_of_sales_restores_every_paid_order(tmp_path):
    ids = await sales_catalog()
    paid_before_backup: dict[str, int] = {}
    backup_started = asyncio.Event()
    stop = asyncio.Event()

    async with http_client() as client:

        async def buyer(k: int) -> None:
            for i in range(8):
                if stop.is_set():
                    return
                placed = await client.post(
                    "/api/v1/orders",
                    headers={**AUTH, "Idempotency-Key": f"b{k}-{i}"},
                    json={
                        "session_id": ids["ga_session"],
                        "items": [{"price_class_id": ids["ga_class"], "quantity": 1}],
                        "buyer": {"name": BUYER.name, "phone": BUYER.phone, "email": BUYER.email},
                    },
                )
                if placed.status_code != 201:
                    return  # sold out
                paid = await client.post(f"/api/v1/orders/{placed.json()['code']}/pay", headers=AUTH)
                assert paid.status_code == 200 and paid.json()["status"] == "paid"
                if not backup_started.is_set():
                    paid_before_backup[placed.json()["code"]] = len(paid.json()["tickets"])

        async def backer() -> backup.Manifest:
            while len(paid_before_backup) < 6:
                await asyncio.sleep(0.01)
            backup_started.set()
            try:
                return await backup.make()
            finally:
                stop.set()

        *_, manifest = await asyncio.gather(*(buyer(k) for k in range(4)), backer())

    file = backup.backup_dir() / manifest.file
    verified = await backup.verify(file)
    assert verified.manifest.snapshot.counts["sales_order"] >= len(paid_before_backup)
    async with other_database(tmp_path) as target:
        await backup.restore(file, url=target)
        restored = await paid_orders_in(target)
    assert paid_before_backup.items() <= restored.items()  # every order paid before the backup, with its tickets
    assert all(n == 1 for n in restored.values())  # and no paid order of the backup lacks its ticket
    assert len(restored) == manifest.snapshot.counts["ticket"]
    live = await Order.count().where(Order.status == "paid")
    assert live >= len(restored) and await Ticket.count() == live
    print(f"paid before the backup {len(paid_before_backup)}, in the backup {len(restored)}, at the end {live}")


async def test_cli_make_prints_the_file_lists_it_and_records_the_verification():
    await sales_catalog()
    made = cli("make")
    assert made.returncode == 0, made.stderr
    file = Path(made.stdout.strip())
    assert file.is_file() and file.parent == backup.backup_dir() and "verified in" in made.stderr
    manifest = json.loads(backup.manifest_path(file).read_text())
    assert manifest["engine"] == ("postgresql" if backup.is_postgres(database_url()) else "sqlite")
    assert manifest["counts"]["staff_user"] >= 0 and set(manifest["checksums"]) >= {"sales_order", "ticket"}
    listed = cli("list")
    assert listed.returncode == 0 and str(file) in listed.stdout and "verified" in listed.stdout
    row = await Backup.select().where(Backup.file == file.name).first()
    assert row["verified_ok"] is True and row["sha256"] == manifest["sha256"]
    assert (await cli_verify(file)).returncode == 0


async def cli_verify(file: Path) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(cli, "verify", str(file))


async def test_a_damaged_file_is_refused_with_a_clear_message_and_nothing_changes(tmp_path):
    await sales_catalog()
    manifest = await backup.make()
    good = backup.backup_dir() / manifest.file
    bad = tmp_path / good.name
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    backup.manifest_path(bad).write_text(backup.manifest_path(good).read_text())
    orders = await Order.count()
    result = await cli_verify(bad)
    assert result.returncode == 1
    assert "the file is damaged (its size or SHA-256 differs from the manifest)" in result.stderr
    assert "Traceback" not in result.stderr
    restore = await asyncio.to_thread(cli, "restore", str(bad))
    assert restore.returncode == 1 and "damaged" in restore.stderr
    assert await Order.count() == orders
    row = await Backup.select().where(Backup.file == bad.name).first()
    assert row["verified_ok"] is False and "damaged" in row["verify_message"]


async def test_a_file_that_is_not_a_backup_and_a_backup_of_another_version_are_refused(tmp_path):
    stray = tmp_path / "ticketcenter-stray.sqlite3"
    stray.write_bytes(b"not a database")
    result = await cli_verify(stray)
    assert result.returncode == 1 and "not a Ticket Center backup (its manifest" in result.stderr

    await sales_catalog()
    manifest = await backup.make()
    file = backup.backup_dir() / manifest.file
    data = json.loads(backup.manifest_path(file).read_text())
    data["migrations"].append("sales:2027-06-01T00:00:00:000000")
    backup.manifest_path(file).write_text(json.dumps(data))
    newer = await cli_verify(file)
    assert newer.returncode == 1 and "made by a newer version of Ticket Center" in newer.stderr
    data["migrations"] = data["migrations"][:-2]
    backup.manifest_path(file).write_text(json.dumps(data))
    older = await cli_verify(file)
    assert older.returncode == 1 and "made by an older version of Ticket Center" in older.stderr


async def test_a_backup_whose_content_differs_from_its_manifest_fails_verification():
    await sales_catalog()
    manifest = await backup.make()
    file = backup.backup_dir() / manifest.file
    data = json.loads(backup.manifest_path(file).read_text())
    data["counts"]["sales_order"] += 1
    backup.manifest_path(file).write_text(json.dumps(data))
    with pytest.raises(backup.BackupError, match="table sales_order: 0 rows restored, 1 backed up"):
        await backup.verify(file)


async def test_only_the_newest_backups_are_kept(monkeypatch):
    monkeypatch.setenv("BACKUP_KEEP", "2")
    made = [await backup.make() for _ in range(3)]
    assert [p.name for p in backup.listed()] == [made[2].file, made[1].file]
    assert not backup.manifest_path(backup.backup_dir() / made[0].file).exists()


async def test_restore_brings_back_the_database_as_it_was(tmp_path):
    await sales_catalog()
    manifest = await backup.make()
    async with other_database(tmp_path) as target:
        await backup.restore(backup.backup_dir() / manifest.file, url=target)
        again = await backup.verify(backup.backup_dir() / manifest.file, url=target)
        assert again.manifest.file == manifest.file
        if backup.is_postgres(target):
            conn = await asyncpg.connect(target)
            try:
                snapshot = await backup._pg_snapshot(conn)
            finally:
                await conn.close()
        else:
            import sqlite3

            with contextlib.closing(sqlite3.connect(backup.sqlite_path(target))) as conn:
                snapshot = backup._sqlite_snapshot(conn)
    assert snapshot == manifest.snapshot
