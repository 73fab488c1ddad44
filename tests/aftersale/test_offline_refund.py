"""A refund reaches a gate that was offline when it happened (issue 11, R5.3, R9.2): the camera client
(`python -m scanner --headless`) is cut from the database for real (tests/gate/outage.py: a stopped TCP
forwarder on PostgreSQL, a vanished database share on SQLite), the ticket is refunded meanwhile, the gate
reconnects and pulls the revocation delta; cut off again, it refuses the ticket from its own list."""

from __future__ import annotations

import asyncio
import json
import os

from db.sales.aftersale.refunds import request_refund
from tests.aftersale.support import SELLER, paid_in_cash
from tests.gate.outage import outage_for
from tests.gate.tickets import issue_ticket, open_venue
from tests.gate.videos import write_video
from tests.scanner.test_client_video import read_verdict, start_client


async def test_offline_gate_reconnects_pulls_the_revocation_and_refuses_the_refunded_ticket(tmp_path):
    world = await open_venue()
    first = await issue_ticket(world["session"])
    refunded = await issue_ticket(world["session"])
    code = await paid_in_cash(refunded)
    video = write_video(
        tmp_path / "gate.avi", [(None, 0.5), (first["code"], 1.0), (None, 20.0), (refunded["code"], 1.0)]
    )
    async with outage_for(os.environ["DATABASE_URL"], tmp_path) as outage:
        process = await start_client(
            video, tmp_path, "--realtime", "--offline-timeout", "1", "--probe-interval", "0.3", database_url=outage.url
        )
        online = await read_verdict(process)
        assert (online["status"], online["offline"]) == ("ok", False)  # synced: the second ticket is valid
        await outage.cut()  # the gate loses the database
        # the session has begun: only the organiser's waiver refunds it now (as a cancellation would)
        done = await request_refund(SELLER, code, channel="box_office", waived=True)
        assert done.status == "done"
        await outage.restore()  # it reconnects and, probing, merges the revocation delta into its saved list
        cache = tmp_path / "cache.json"
        for _ in range(300):
            if cache.exists() and refunded["id"] in json.loads(cache.read_text()).get("revoked", []):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the gate did not pull the revocation delta after reconnecting")
        await outage.cut()  # offline again: only its own list can refuse the ticket now
        refused = await read_verdict(process)
        _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()[-2000:]
    assert (refused["status"], refused["offline"], refused["ticket_id"]) == ("revoked", True, refunded["id"])
    assert refused["revocation_list_stale"] is False
