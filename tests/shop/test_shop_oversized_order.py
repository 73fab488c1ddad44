"""One anonymous request must not take the shop down (issue 9, defect 1): a shop order with a 30-digit
quantity, sent to the real server process (python -m web.serve) over HTTP, is answered with a form error
within a second, and the worker's memory grows by less than 50 MB."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
MAX_GROWTH = 50 * 1024 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _general_admission_class(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT pc.session, pc.id FROM price_class pc JOIN event_session s ON s.id = pc.session "
            "WHERE pc.seat_class = '' AND s.status = 'on_sale' ORDER BY pc.id LIMIT 1"
        ).fetchone()
    assert row, "the demo data has a general-admission session on sale"
    return row


def test_a_thirty_digit_quantity_is_refused_at_once_without_memory_growth(tmp_path):
    database = tmp_path / "oversized.sqlite3"
    # Plain HTTP on localhost: the cookies must not be Secure-only for the CSRF token to come back.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT), "TC_COOKIE_SECURE": "0"}
    subprocess.run([sys.executable, "-m", "db.demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    session_id, class_id = _general_admission_class(database)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "web.serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
            page = client.get(f"/shop/sessions/{session_id}")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            form = {
                "_csrf_token": token,
                "name": "王小明",
                "phone": "13800138000",
                "email": "xiaoming@example.cn",
                "accept_rules": "1",
            }
            for quantity in ("20000000", "999999999999999999999999999999"):
                before = _rss(worker)
                started = time.monotonic()
                answer = client.post(
                    f"/shop/sessions/{session_id}/order", data={**form, f"qty_{class_id}": quantity}, timeout=5
                )
                took = time.monotonic() - started
                growth = _rss(worker) - before
                assert answer.status_code == 422, answer.status_code
                assert 'data-testid="form-error"' in answer.text
                assert took < 1.0, f"qty={quantity}: answered after {took:.2f} s"
                assert growth < MAX_GROWTH, f"qty={quantity}: the worker grew by {growth / 2**20:.0f} MiB"
    finally:
        server.terminate()
        server.wait(30)
