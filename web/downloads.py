"""A file written for one download: into a temporary folder under the export directory, sent, then removed."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from litestar.background_tasks import BackgroundTask
from litestar.response import File

from db.reports.exports import export_dir

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


async def written_file(name: str, write: Callable[[Path], Awaitable[object]]) -> File:
    """`await write(path)` fills the file; the answer sends it (media type by the name's ending) and deletes it."""
    folder = Path(tempfile.mkdtemp(prefix="tc-download-", dir=export_dir()))
    path = folder / name
    try:
        await write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        folder.rmdir()
        raise

    def remove() -> None:
        path.unlink(missing_ok=True)
        folder.rmdir()

    return File(
        path,
        filename=name,
        media_type=MEDIA[name.rsplit(".", 1)[-1]],
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(remove),
    )
