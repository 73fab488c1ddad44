"""Server logs never hold a customer's phone, e-mail, ID number or ticket code (issue 14, R6.3): the real
service (python -m web.serve) with its whole log captured, through a sale at the box office (with an ID
number) and through the partner API, payment, e-mail delivery, a refund, a gate scan and an order lookup,
including refused input that carries customer data."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from db.sales.demo import DEMO_PARTNER_KEY
from tests.helpers import free_port
from tests.smtp import running_smtp_server

ROOT = Path(__file__).resolve().parents[2]
PHONE, EMAIL, ID_NUMBER = "13911112222", "leak.check@example.cn", "110101199001011237"
AUTH = {"Authorization": f"Bearer {DEMO_PARTNER_KEY}"}
GATE_AUTH = {"Authorization": "Bearer demo-gate-key"}


def _wait_serving(base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the service did not start")


def _sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"username": username, "password": "Demo-2026!", "_csrf_token": token})
    assert answer.status_code in (200, 303), answer.text


def _csrf(client: httpx.Client) -> str:
    return client.cookies.get("csrftoken") or ""


def _walk_through_a_sale(base: str) -> list[str]:
    """Everything a customer's data passes through; the ticket codes that were issued."""
    codes: list[str] = []
    with httpx.Client(base_url=base, timeout=60) as api:
        events = api.get("/api/v1/events", headers=AUTH).json()
        at_gate = [s for e in events for s in e["sessions"] if any(g["code"] == "MC-1" for g in s["gates"])]
        session = max(at_gate, key=lambda s: s["starts_at"])  # the latest: still refundable
        classes = api.get(f"/api/v1/sessions/{session['id']}/availability", headers=AUTH).json()["price_classes"]
        body = {
            "session_id": session["id"],
            "items": [{"price_class_id": classes[0]["id"], "quantity": 2}],
            "buyer": {"name": "李泄露", "phone": PHONE, "email": EMAIL},
        }
        placed = api.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": uuid.uuid4().hex}, json=body)
        assert placed.status_code == 201, placed.text
        order = placed.json()["code"]
        bad = api.post(
            "/api/v1/orders", headers=AUTH, json={**body, "buyer": {"name": "李", "phone": PHONE, "email": "x" * 300}}
        )
        assert bad.status_code in (400, 422)
        paid = api.post(f"/api/v1/orders/{order}/pay", headers=AUTH).json()
        tickets = paid["tickets"]
        codes += [t["qr"] for t in tickets]
        quote = api.get(
            f"/api/v1/orders/{order}/refund-quote", params={"ticket_ids": str(tickets[1]["id"])}, headers=AUTH
        )
        assert quote.status_code == 200, quote.text
        refund = api.post(
            f"/api/v1/orders/{order}/refunds",
            headers={**AUTH, "Idempotency-Key": uuid.uuid4().hex},
            json={"ticket_ids": [tickets[1]["id"]]},
        )
        assert refund.status_code in (200, 201), refund.text
        for ticket in tickets:
            scan = api.post(
                "/api/v1/checkin/redeem", headers=GATE_AUTH, json={"code": ticket["qr"], "nonce": uuid.uuid4().hex}
            )
            assert scan.status_code == 200, scan.text
        garbage = api.post("/api/v1/checkin/redeem", headers=GATE_AUTH, json={"code": codes[0] + "X"})
        assert garbage.status_code == 200

    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as staff:
        _sign_in(staff, "lina")
        deliver = staff.post(f"/sales/orders/{order}/deliver", data={"kind": "email", "_csrf_token": _csrf(staff)})
        assert deliver.status_code == 200, deliver.text
        shop_session = session["id"]
        sale = staff.post(
            f"/sales/sessions/{shop_session}/orders",
            data={
                "qty_" + str(classes[0]["id"]): "1",
                "buyer_name": "王泄露",
                "buyer_phone": PHONE,
                "buyer_email": EMAIL,
                "buyer_id_number": ID_NUMBER,
                "_csrf_token": _csrf(staff),
            },
        )
        assert sale.status_code in (200, 201, 422), sale.text
        search = staff.get("/sales/orders", params={"phone": PHONE})
        assert search.status_code == 200

    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as shopper:
        page = shopper.get("/shop/lookup")
        token = shopper.cookies.get("csrftoken") or re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        shopper.post("/shop/lookup", data={"code": order, "contact": PHONE, "_csrf_token": token})
        shopper.post("/shop/lookup", data={"code": order, "contact": EMAIL, "_csrf_token": token})
    return codes


async def test_a_full_sale_refund_and_scan_leave_no_customer_data_in_the_server_log(tmp_path):
    log_path = tmp_path / "server.log"
    with running_smtp_server() as (mailbox, smtp_port):
        env = {
            **os.environ,
            "DATABASE_URL": os.environ["DATABASE_URL"],  # the engine under test (its tables emptied per test)
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "BACKUP_INTERVAL_HOURS": "0",
            "TC_COOKIE_SECURE": "0",  # plain http on the loopback
        }
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "db.demo"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        port = free_port()
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "web.serve", "--port", str(port), "--workers", "1", "--log-level", "debug"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                await asyncio.to_thread(_wait_serving, base)
                ticket_codes = await asyncio.to_thread(_walk_through_a_sale, base)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
        assert any(PHONE in m.as_string() or EMAIL in str(m["To"]) for m in mailbox.emails())  # it was delivered
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Application startup complete" in text and "Finished server process" in text  # the whole log, debug level
    leaks = {
        name: value
        for name, value in [("phone", PHONE), ("e-mail", EMAIL), ("ID number", ID_NUMBER), ("ID tail", ID_NUMBER[-8:])]
        if value in text
    }
    leaks.update({f"ticket code {i}": code for i, code in enumerate(ticket_codes) if code in text or code[:24] in text})
    assert not leaks, f"the server log holds customer data: {sorted(leaks)}"
