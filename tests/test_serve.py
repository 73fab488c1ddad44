"""The production server (web/serve.py): worker processes with a listening socket each, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _start(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "db.migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    with (tmp_path / "serve.log").open("ab") as log:  # the master's log (the child keeps its own handle)
        return subprocess.Popen(
            [sys.executable, "-m", "web.serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stderr=log,
        )


def _workers(server: subprocess.Popen) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]


def _serving(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _listening_workers(port: int, workers: list[int]) -> set[int]:
    """The worker processes that hold a listening socket on the port (from /proc, no tools needed)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    holders = set()
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                holders.add(pid)
    return holders


@contextmanager
def _service(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, list[int]]]:
    """A running service with its two workers each listening: (master process, port, worker pids)."""
    port = free_port()
    server = _start(tmp_path, port)
    try:
        assert _wait(lambda: _serving(port)), "the server did not answer /healthz"
        workers = _workers(server)
        assert _wait(lambda: len(_listening_workers(port, workers)) == 2), "each worker should hold its own socket"
        yield server, port, workers
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def test_each_worker_listens_itself_and_sigterm_stops_them_all(tmp_path):
    with _service(tmp_path) as (server, port, _):
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        assert not _serving(port)


def test_a_worker_that_ends_on_its_own_stops_the_service_for_its_supervisor_to_restart(tmp_path):
    for how in (signal.SIGKILL, signal.SIGTERM):  # crashed, or stopped by hand: either way the service is down
        with _service(tmp_path) as (server, port, workers):
            victim = _listening_workers(port, workers).pop()
            os.kill(victim, how)
            assert server.wait(30) == 1
        logged = (tmp_path / "serve.log").read_text()  # which worker died, and why (issue 9)
        assert f"(pid {victim}) ended on its own: killed by {how.name}" in logged, logged[-2000:]


def test_workers_end_with_the_master_even_when_it_is_killed_outright(tmp_path):
    with _service(tmp_path) as (server, port, workers):
        server.kill()
        server.wait(10)
        assert _wait(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 20), (
            "orphan workers keep serving"
        )
        assert not _serving(port)


def test_a_port_in_use_is_refused_before_any_worker_starts(tmp_path):
    with _service(tmp_path) as (server, port, workers):
        second = subprocess.run(
            [sys.executable, "-m", "web.serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and "is in use" in second.stderr
        assert len(_listening_workers(port, workers)) == 2  # the running service is untouched
        server.send_signal(signal.SIGTERM)
        server.wait(30)
