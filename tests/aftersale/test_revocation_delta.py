"""Revocations reach offline gates (R5.3, R9.2): a numbered delta `since=N` on every sync, merged into the
scanner's cache; an offline scanner with an old list says "revocation list stale" (verdict and --headless)."""

from __future__ import annotations

import datetime as dt
import json

from db.catalog.tables import EventSession
from db.gate.devices import register_device
from db.sales.aftersale.refunds import request_refund
from db.sales.tables import Ticket
from scanner.__main__ import headless_line
from scanner.client import GateClient
from scanner.verdict_ui import VerdictScreen
from tests.aftersale.support import SELLER, paid_seats, staff
from tests.helpers import ADMIN_ACTOR, http_client, utc
from tests.sales.support import sales_catalog


async def _open(ids):
    await EventSession.update({EventSession.admission_opens_at: utc(hours=-1)}).where(
        EventSession.id == ids["seated_session"]
    )


async def test_the_sync_delta_numbers_revocations_and_the_scanner_refuses_a_refunded_ticket_offline(tmp_path):
    ids = await sales_catalog()
    await staff()
    await _open(ids)
    codes = [await paid_seats(ids, [seat]) for seat in ids["vip_seats"][:3]]
    tickets = [await Ticket.select(Ticket.id, Ticket.code).where(Ticket.order.code == c).first() for c in codes]
    _, token = await register_device(ADMIN_ACTOR, "T-N", "北门闸机", "token-for-T-N-aftersale")
    client = GateClient("T-N", journal_path=tmp_path / "j.jsonl", cache_path=tmp_path / "c.json", revocation_max_age=60)
    await client._connect()
    seq = client.cache.revocation_seq
    await request_refund(SELLER, codes[0], channel="box_office")
    async with http_client() as http:
        auth = {"Authorization": f"Bearer {token}"}
        delta = (await http.get("/api/v1/checkin/sync", params={"since": seq}, headers=auth)).json()
        assert delta == {"since": seq, "upto": seq + 1, "revoked": [tickets[0]["id"]], "restored": []}
        assert (await http.get("/api/v1/checkin/sync", params={"since": seq + 1}, headers=auth)).json()["revoked"] == []
        assert (await http.get("/api/v1/checkin/sync", params={"since": "x"}, headers=auth)).status_code in (400, 422)
        full = (await http.get("/api/v1/checkin/sync", headers=auth)).json()
        assert full["revocation_seq"] == seq + 1 and tickets[0]["id"] in full["revoked"]
    await client.refresh_revocations()  # what the client does on every probe while online
    await request_refund(SELLER, codes[1], channel="box_office")  # refunded after the client's last delta
    client.online = False  # the database is out of reach from here on
    refused = await client.scan(tickets[0]["code"])
    assert refused["status"] == "revoked" and refused["offline"] and refused["revocation_list_stale"] is False
    assert json.loads(headless_line(refused, 0.0))["revocation_list_stale"] is False
    # The list ages past its limit: the verdict says so, on the screen and in the --headless line.
    client.cache.data["revocations_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    admitted = await client.scan(tickets[2]["code"])
    assert admitted["status"] == "ok" and admitted["revocation_list_stale"] is True
    assert json.loads(headless_line(admitted, 1.0))["revocation_list_stale"] is True
    screen = VerdictScreen(language="en", size=(640, 360), sound=False)
    stale, fresh = screen.render(admitted, offline=True), screen.render(refused, offline=True)
    assert stale.shape == fresh.shape and (stale != fresh).any()  # the banner differs: stale list shown
    await client.close()
