"""The administrator's backups page (issue 14): a warning while there is no verified backup or the last is
older than a day; the button makes and verifies one in the background and the page shows it when done."""

from __future__ import annotations

import asyncio
import datetime as dt

from db.ops import schedule
from db.ops.tables import Backup, Job
from tests.helpers import http_client, make_staff, post_form, sign_in


async def test_backup_now_from_the_page_then_the_warning_goes_and_returns_after_a_day():
    await make_staff("admin", "liuyang")
    async with http_client() as client:
        await sign_in(client, "liuyang")
        page = await client.get("/admin/backups")
        assert (
            page.status_code == 200
            and 'data-testid="backup-stale"' in page.text
            and "还没有经过校验的备份" in page.text
        )
        started = await post_form(client, "/admin/backups", headers={"HX-Request": "true"})
        assert 'data-testid="backup-running"' in started.text and 'hx-trigger="every 2s"' in started.text
        for _ in range(1200):
            state = await schedule.state("backup")
            if state and state["finished_at"] is not None:
                break
            await asyncio.sleep(0.05)
        assert state["outcome"] == "ok"
        done = await client.get("/admin/backups", headers={"HX-Request": "true"})
        assert 'data-testid="backup-stale"' not in done.text and 'data-testid="backup-running"' not in done.text
        row = await Backup.select().first()
        assert row["file"] in done.text and row["verified_ok"] is True and "✔" in done.text
        await Backup.update({Backup.made_at: row["made_at"] - dt.timedelta(days=2)}).where(Backup.id == row["id"])
        old = await client.get("/admin/backups")
        assert 'data-testid="backup-stale"' in old.text and "已超过一天" in old.text


async def test_two_workers_claiming_the_backup_at_once_run_it_once():
    wins = await asyncio.gather(*(schedule.claim("backup", dt.timedelta(hours=24)) for _ in range(5)))
    assert sorted(wins) == [False, False, False, False, True]
    assert not await schedule.claim("backup", dt.timedelta(0))  # still running
    await schedule.finish("backup", "ok")
    assert not await schedule.claim("backup", dt.timedelta(hours=24))  # not due yet
    assert await schedule.claim("backup", dt.timedelta(0))
    assert (await Job.select().first())["finished_at"] is None


async def test_sellers_do_not_reach_backups():
    await make_staff("seller", "lina")
    async with http_client() as client:
        await sign_in(client, "lina")
        assert (await client.get("/admin/backups")).status_code == 403
