"""Reports read from the standby when DATABASE_REPLICA_URL names one (issue 14, R9.2): the audit log search
runs on that node, writes stay on the primary."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from db.audit.record import record
from db.core.actor import Actor
from db.core.engine import ROOT, database_url
from tests.conftest import TEST_DATABASE

pytestmark = pytest.mark.skipif(TEST_DATABASE != "postgres", reason="a PostgreSQL standby: the PostgreSQL run")

SEARCH = """
from db.audit.record import record, search
from db.core.actor import Actor
from db.core.engine import run_tool
async def main():
    await record(Actor.system("t"), "written.here", "test")
    print(sorted({e["action"] for e in await search()}))
run_tool(main())
"""


async def test_the_audit_search_reads_the_replica_and_writes_go_to_the_primary():
    await record(Actor.system("t"), "primary.only", "test")
    name = f"tc_replica_{uuid.uuid4().hex[:8]}"
    replica_url = database_url().rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(database_url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        migrated = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "db.migrate"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": replica_url},
            capture_output=True,
        )
        assert migrated.returncode == 0
        replica = await asyncpg.connect(replica_url)
        await replica.execute(
            "INSERT INTO audit_entry (at, actor_name, actor_role, action, object_type, object_id, summary) "
            "VALUES (now(), 'standby', 'system', 'replica.only', 'test', '', '')"
        )
        await replica.close()
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", SEARCH],
            cwd=ROOT,
            env={**os.environ, "DATABASE_REPLICA_URL": replica_url},
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().splitlines()[-1] == "['replica.only']"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    from db.audit.tables import AuditEntry

    assert await AuditEntry.count().where(AuditEntry.action == "written.here") == 1  # written on the primary
