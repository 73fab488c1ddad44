"""Demo data for the backups page: one real backup of the demo database, made and verified (issue 14)."""

from __future__ import annotations

from db.core.actor import Actor
from db.ops import backup
from db.ops.tables import Backup


async def load(actor: Actor) -> None:
    if await Backup.count():
        return
    manifest = await backup.make_recorded(actor)
    await backup.verify_recorded(actor, backup.backup_dir() / manifest.file)
