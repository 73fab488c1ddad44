"""What every benchmark needs around the app: a real server on a free port, waiting for it, percentiles."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str, workers: int, port: int, **env: str) -> subprocess.Popen:
    """The production server (`python -m web.serve`: uvicorn workers with a socket each) with `workers`
    processes on `database_url`; `env` adds variables."""
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), **env}
    command = [sys.executable, "-m", "web.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, cwd=REPO, env=environment)


async def wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(f"server at {url} did not become ready")


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else (values[0] if values else 0.0)
    )
