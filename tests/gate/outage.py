"""Real database outages for the offline tests (R9.2), no mocks:

- PostgreSQL: the client connects through a TCP forwarder running in the test's event loop; `cut()`
  closes its listening socket and aborts every open connection, `restore()` listens again on the port.
- SQLite: the client opens the database through a symlinked directory; `cut()` points the link at a
  directory whose database file is unreadable garbage (every query fails, as with a broken share),
  `restore()` points it back at the real database."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from urllib.parse import urlsplit


class TcpForwarder:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()


class PostgresOutage:
    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.forwarder = TcpForwarder(parts.hostname or "127.0.0.1", parts.port or 5432)
        self._url = database_url

    async def __aenter__(self) -> PostgresOutage:
        await self.forwarder.start()
        return self

    async def __aexit__(self, *exc) -> None:
        if self.forwarder.server and self.forwarder.server.is_serving():
            await self.forwarder.stop()

    @property
    def url(self) -> str:
        return re.sub(r"@([^/:]+)(:\d+)?/", f"@127.0.0.1:{self.forwarder.port}/", self._url)

    async def cut(self) -> None:
        await self.forwarder.stop()

    async def restore(self) -> None:
        await self.forwarder.start()


class SqliteOutage:
    def __init__(self, database_url: str, workdir: Path) -> None:
        self.real = Path(database_url.removeprefix("sqlite:///"))
        self.link = workdir / "db-share"
        self.broken = workdir / "db-broken"
        self.broken.mkdir(exist_ok=True)
        (self.broken / self.real.name).write_bytes(b"this is not a database\n" * 256)

    async def __aenter__(self) -> SqliteOutage:
        await self.restore()
        return self

    async def __aexit__(self, *exc) -> None:
        if self.link.is_symlink():
            self.link.unlink()

    @property
    def url(self) -> str:
        return f"sqlite:///{self.link / self.real.name}"

    def _point_at(self, folder: Path) -> None:
        if self.link.is_symlink():
            self.link.unlink()
        os.symlink(folder, self.link)

    async def cut(self) -> None:
        self._point_at(self.broken)

    async def restore(self) -> None:
        self._point_at(self.real.parent)


def outage_for(database_url: str, workdir: Path):
    if database_url.startswith("sqlite:///"):
        return SqliteOutage(database_url, workdir)
    return PostgresOutage(database_url)
