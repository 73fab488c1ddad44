"""Backups that are known to restore (R6.3, issue 14).

`make` writes one backup file of the live database into the backup folder (BACKUP_DIR, else var/backups):
SQLite through its online backup API (a consistent copy while the service writes), PostgreSQL with
`pg_dump --format=custom`. Beside it goes its manifest (FILE.json): the engine, the migrations applied, the
row count of every table and a checksum of the key tables, all read in the same snapshot the backup copies
(SQLite: the backup runs on the connection whose read transaction took the figures; PostgreSQL: pg_dump
uses the snapshot exported by the transaction that took them), and the file's own SHA-256.

`verify` restores the file into a scratch database (a temporary file; a database created for the purpose on
the same PostgreSQL server, dropped afterwards) and checks that its migrations are exactly this version's,
and that its row counts and checksums equal the manifest. `restore` verifies, then replaces the live
database's content (stop the service first). Only the newest BACKUP_KEEP backups are kept (default 14)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.conf.apps import Finder

from db.core.engine import ROOT, database_url

FORMAT = 1
# The tables whose content is checksummed row by row (money, tickets, entries, the audit trail); every
# table's row count is compared.
KEY_TABLES = ("sales_order", "sales_order_item", "sales_payment", "ticket", "gate_admission", "audit_entry")
MIGRATION_TABLE = "migration"


class BackupError(Exception):
    """A backup that cannot be made, read, verified or restored; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    migrations: list[str]  # "app:ID" of every migration applied, sorted
    counts: dict[str, int]
    checksums: dict[str, str]


@dataclass(slots=True)
class Manifest:
    format: int
    engine: str
    file: str
    made_at: str
    size: int
    sha256: str
    snapshot: Snapshot
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "engine": self.engine,
            "file": self.file,
            "made_at": self.made_at,
            "size": self.size,
            "sha256": self.sha256,
            "migrations": self.snapshot.migrations,
            "counts": self.snapshot.counts,
            "checksums": self.snapshot.checksums,
            **self.extra,
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def read(cls, backup: Path) -> Manifest:
        path = manifest_path(backup)
        if not backup.is_file():
            raise BackupError(f"{backup}: no such backup file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            snapshot = Snapshot(list(data["migrations"]), dict(data["counts"]), dict(data["checksums"]))
            manifest = cls(
                format=int(data["format"]),
                engine=str(data["engine"]),
                file=str(data["file"]),
                made_at=str(data["made_at"]),
                size=int(data["size"]),
                sha256=str(data["sha256"]),
                snapshot=snapshot,
            )
        except FileNotFoundError:
            raise BackupError(f"{backup}: not a Ticket Center backup (its manifest {path.name} is missing)") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{backup}: its manifest {path.name} is unreadable ({exc})") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{backup}: backup format {manifest.format}, this version reads format {FORMAT}")
        return manifest


@dataclass(frozen=True, slots=True)
class Verified:
    file: Path
    manifest: Manifest
    seconds: float


def backup_dir() -> Path:
    return Path(os.environ.get("BACKUP_DIR") or ROOT / "var" / "backups")


def keep_count() -> int:
    return max(1, int(os.environ.get("BACKUP_KEEP", "14")))


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def code_migrations() -> list[str]:
    """Every migration this version of the code has, as "app:ID"."""
    found = []
    for app in Finder().get_app_registry().app_configs.values():
        for path in Path(app.migrations_folder_path).glob("*.py"):
            match = re.search(r'^ID = "([^"]+)"', path.read_text(encoding="utf-8"), re.MULTILINE)
            if match:
                found.append(f"{app.app_name}:{match.group(1)}")
    return sorted(found)


def table_names() -> list[str]:
    return sorted({t._meta.tablename for t in Finder().get_table_classes()} | {MIGRATION_TABLE})


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- SQLite ----------------------------------------------------------------------------------------------


def _sqlite_snapshot(conn: sqlite3.Connection) -> Snapshot:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in table_names() if t in present}
    checksums = {}
    for table in KEY_TABLES:
        if table in present:
            digest = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY id'):
                digest.update(repr(row).encode())
            checksums[table] = digest.hexdigest()
    migrations = []
    if MIGRATION_TABLE in present:
        migrations = sorted(f"{a}:{n}" for a, n in conn.execute("SELECT app_name, name FROM migration"))
    return Snapshot(migrations, counts, checksums)


def _sqlite_make(source: Path, target: Path) -> Snapshot:
    src = sqlite3.connect(source, isolation_level=None, timeout=30)
    try:
        src.execute("BEGIN")  # one read transaction: the figures and the copy see the same snapshot
        snapshot = _sqlite_snapshot(src)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()
    return snapshot


def _sqlite_read(path: Path) -> Snapshot:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problem = conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the restored database is damaged: {problem}")
        return _sqlite_snapshot(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the file is not a readable SQLite database ({exc})") from None
    finally:
        conn.close()


def _sqlite_restore(backup: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- PostgreSQL ------------------------------------------------------------------------------------------


async def _pg_snapshot(conn: asyncpg.Connection) -> Snapshot:
    present = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    counts = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in table_names() if t in present}
    checksums = {}
    for table in KEY_TABLES:
        if table in present:
            checksums[table] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.id), '')) FROM \"{table}\" t"
            )
    migrations = []
    if MIGRATION_TABLE in present:
        rows = await conn.fetch("SELECT app_name, name FROM migration")
        migrations = sorted(f"{r['app_name']}:{r['name']}" for r in rows)
    return Snapshot(migrations, counts, checksums)


async def _run(*command: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        raise BackupError(f"{command[0]} failed: {lines[0] if lines else f'exit {process.returncode}'}")
    return out.decode(errors="replace")


async def _check_pg_tools(conn: asyncpg.Connection) -> None:
    server = conn.get_server_version().major
    text = await _run("pg_dump", "--version")
    match = re.search(r"(\d+)\.\d+", text)
    client = int(match.group(1)) if match else 0
    if client < server:
        raise BackupError(
            f"pg_dump {client} cannot back up a PostgreSQL {server} server: install postgresql-client-{server}"
        )


async def _pg_make(url: str, target: Path) -> Snapshot:
    conn = await asyncpg.connect(url)
    try:
        await _check_pg_tools(conn)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
            snapshot = await _pg_snapshot(conn)
            await _run("pg_dump", "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}", url)
    finally:
        await conn.close()
    return snapshot


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def _scratch_postgres(url: str):
    """A database made for one verification on the live database's server, dropped afterwards."""
    name = f"{urlsplit(url).path.lstrip('/')}_verify_{secrets.token_hex(4)}"[:63]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(url, name)
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _pg_read(url: str) -> Snapshot:
    conn = await asyncpg.connect(url)
    try:
        return await _pg_snapshot(conn)
    finally:
        await conn.close()


# --- the operations --------------------------------------------------------------------------------------


async def make(url: str | None = None, folder: Path | None = None) -> Manifest:
    """Write a backup of the database at `url` (default: DATABASE_URL) and its manifest; prune old ones."""
    url = url or database_url()
    folder = folder or backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    made = _now()
    stamp = made.strftime("%Y%m%dT%H%M%S%fZ")
    engine = "postgresql" if is_postgres(url) else "sqlite"
    target = folder / f"ticketcenter-{stamp}.{'dump' if engine == 'postgresql' else 'sqlite3'}"
    partial = target.with_name(target.name + ".partial")
    try:
        if engine == "postgresql":
            snapshot = await _pg_make(url, partial)
        else:
            snapshot = await asyncio.to_thread(_sqlite_make, sqlite_path(url), partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    manifest = Manifest(
        format=FORMAT,
        engine=engine,
        file=target.name,
        made_at=made.isoformat(),
        size=target.stat().st_size,
        sha256=await asyncio.to_thread(_file_sha256, target),
        snapshot=snapshot,
    )
    manifest_path(target).write_text(manifest.to_json(), encoding="utf-8")
    prune(folder)
    return manifest


def listed(folder: Path | None = None) -> list[Path]:
    """The backup files in the folder, newest first."""
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("ticketcenter-*") if p.suffix in (".dump", ".sqlite3")]
    return sorted(files, key=lambda p: p.name, reverse=True)


def prune(folder: Path | None = None) -> list[Path]:
    """Delete all but the newest BACKUP_KEEP backups (and their manifests); the files deleted."""
    gone = listed(folder)[keep_count() :]
    for path in gone:
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
    return gone


def _compare(manifest: Manifest, restored: Snapshot) -> None:
    expected = manifest.snapshot
    if restored.migrations != expected.migrations:
        raise BackupError("the restored database's migrations differ from the manifest's")
    for table, count in expected.counts.items():
        if restored.counts.get(table) != count:
            raise BackupError(f"table {table}: {restored.counts.get(table)} rows restored, {count} backed up")
    for table, checksum in expected.checksums.items():
        if restored.checksums.get(table) != checksum:
            raise BackupError(f"table {table}: the restored rows differ from those backed up (checksum)")


def _check_version(manifest: Manifest) -> None:
    ours = set(code_migrations())
    theirs = set(manifest.snapshot.migrations)
    if theirs - ours:
        raise BackupError(
            f"made by a newer version of Ticket Center: it has {len(theirs - ours)} migrations this version "
            f"does not know (e.g. {sorted(theirs - ours)[0]})"
        )
    if ours - theirs:
        raise BackupError(
            f"made by an older version of Ticket Center: it lacks {len(ours - theirs)} migrations of this "
            f"version (e.g. {sorted(ours - theirs)[0]}); restore it with the version that made it, then migrate"
        )


async def verify(backup: Path, url: str | None = None) -> Verified:
    """Restore `backup` into a scratch database and compare it with its manifest; BackupError if not equal."""
    started = _now()
    url = url or database_url()
    backup = Path(backup)
    manifest = Manifest.read(backup)
    if backup.stat().st_size != manifest.size or await asyncio.to_thread(_file_sha256, backup) != manifest.sha256:
        raise BackupError(f"{backup}: the file is damaged (its size or SHA-256 differs from the manifest)")
    _check_version(manifest)
    if manifest.engine == "postgresql":
        if not is_postgres(url):
            raise BackupError(f"{backup}: a PostgreSQL backup; DATABASE_URL names a SQLite database")
        async with _scratch_postgres(url) as scratch:
            await _run("pg_restore", "--exit-on-error", "--no-owner", f"--dbname={scratch}", str(backup))
            restored = await _pg_read(scratch)
    else:
        with tempfile.TemporaryDirectory(prefix="tc-verify-") as folder:
            scratch_file = Path(folder) / "restored.sqlite3"
            await asyncio.to_thread(shutil.copyfile, backup, scratch_file)
            restored = await asyncio.to_thread(_sqlite_read, scratch_file)
    _compare(manifest, restored)
    return Verified(backup, manifest, (_now() - started).total_seconds())


async def restore(backup: Path, url: str | None = None) -> Verified:
    """Verify `backup`, then replace the content of the database at `url` with it. Stop the service first."""
    url = url or database_url()
    verified = await verify(backup, url)
    if verified.manifest.engine == "postgresql":
        await _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            f"--dbname={url}",
            str(backup),
        )
    else:
        if is_postgres(url):
            raise BackupError(f"{backup}: a SQLite backup; DATABASE_URL names a PostgreSQL database")
        await asyncio.to_thread(_sqlite_restore, Path(backup), sqlite_path(url))
    return verified


# --- the record of backups in the live database (the administrator's page, the schedule) ----------------


async def _upsert(manifest: Manifest, **verified: Any) -> None:
    from db.ops.tables import Backup

    existing = await Backup.select(Backup.id).where(Backup.file == manifest.file).first()
    if existing is None:
        await Backup.insert(
            Backup(
                file=manifest.file,
                engine=manifest.engine,
                made_at=dt.datetime.fromisoformat(manifest.made_at),
                size_bytes=manifest.size,
                sha256=manifest.sha256,
                **verified,
            )
        ).run()
    elif verified:
        await Backup.update({getattr(Backup, k): v for k, v in verified.items()}).where(Backup.id == existing["id"])


async def make_recorded(actor) -> Manifest:
    """`make`, recorded in the live database and audited."""
    from db.audit.record import record

    manifest = await make()
    await _upsert(manifest)
    await record(
        actor,
        "backup.make",
        "backup",
        manifest.file,
        summary=f"{manifest.size} bytes",
        after={"file": manifest.file, "size": manifest.size, "sha256": manifest.sha256},
    )
    return manifest


async def verify_recorded(actor, backup: Path) -> Verified:
    """`verify`, its outcome recorded against the backup (the administrator's page) and audited; raises
    BackupError like `verify`."""
    from db.audit.record import record

    backup = Path(backup)
    try:
        verified = await verify(backup)
    except BackupError as exc:
        with contextlib.suppress(BackupError):
            await _upsert(Manifest.read(backup), verified_at=_now(), verified_ok=False, verify_message=str(exc))
        await record(actor, "backup.verify", "backup", backup.name, summary=str(exc), after={"ok": False})
        raise
    await _upsert(verified.manifest, verified_at=_now(), verified_ok=True, verify_message="")
    await record(
        actor,
        "backup.verify",
        "backup",
        backup.name,
        summary=f"verified in {verified.seconds:.1f} s",
        after={"ok": True, "rows": sum(verified.manifest.snapshot.counts.values())},
    )
    return verified


async def restore_recorded(actor, backup: Path) -> Verified:
    from db.audit.record import record

    verified = await restore(backup)
    await _upsert(verified.manifest, verified_at=_now(), verified_ok=True, verify_message="")
    await record(actor, "backup.restore", "backup", Path(backup).name, summary="restored over the live database")
    return verified


async def latest() -> dict[str, Any]:
    """What the administrator's page shows: the last verified backup, the last attempt, the recent ones."""
    from db.ops.tables import Backup

    verified = (
        await Backup.select().where(Backup.verified_ok.eq(True)).order_by(Backup.made_at, ascending=False).first()
    )
    recent = await Backup.select().order_by(Backup.made_at, ascending=False).limit(20)
    stale = verified is None or _now() - verified["made_at"] > dt.timedelta(days=1)
    return {"verified": verified, "recent": recent, "stale": stale}
