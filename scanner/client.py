"""The camera client: frames -> QR texts -> one scan per ticket shown -> verdict, online or offline.

Online it calls the same db.gate.redeem operation as the web (DATABASE_URL), each call bounded by
`offline_timeout`. When the database does not answer in time (or the connection fails) the client
switches to offline by itself: it judges from its synced cache (public keys, refused tickets, admitted
tickets), its own admissions, and journals each scan with its original time and nonce. A background
probe switches it back, uploads the journal (db.gate.sync.apply_journal) and re-syncs. A scan whose
online call timed out is journaled with the same nonce, so if it did reach the database it is not
recorded twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import DomainError
from db.core.throttle import TooManyRequests
from db.gate.devices import DeviceInfo, GateInfo, device_for_token, gate_by_code
from db.gate.redeem import TYPED_PER_DEVICE, redeem, verdict_dict
from db.gate.rules import Decision, Direction, Presence, Status
from db.gate.sync import apply_journal, revocations, snapshot
from db.gate.tables import Scan
from db.sales.tickets.short_numbers import normalise
from scanner.decode import decode_frame
from scanner.offline import OFFLINE_CONCESSION, Journal, OfflineCache, judge, remember, replay_journal

log = logging.getLogger("ticketcenter.scanner")


class DatabaseUnavailable(Exception):
    """The database did not answer within the offline timeout, or the connection failed."""


@dataclass
class Debouncer:
    """Counts a code held in front of the camera once.

    A text is submitted when the client is ready (the previous verdict has been shown `ready_after`
    seconds) and it is new, or it left the frame for at least `gone_after` seconds since it was counted.
    Times are frame times, so a recorded video behaves like the live camera."""

    ready_after: float = 2.0
    gone_after: float = 1.0
    _last_seen: dict[str, float] = field(default_factory=dict)
    _busy_until: float = float("-inf")

    def feed(self, texts: Iterable[str], t: float) -> str | None:
        chosen = None
        for text in texts:
            last = self._last_seen.get(text)
            fresh = last is None or t - last >= self.gone_after
            if fresh and chosen is None and t >= self._busy_until:
                chosen = text
                self._busy_until = t + self.ready_after
            if not fresh or chosen == text:
                self._last_seen[text] = t
        return chosen


def _entry(
    nonce: str,
    code: str,
    direction: Direction,
    at: dt.datetime,
    status: Status,
    reason_code: str,
    ticket_id: int | None,
) -> dict:
    """A journal line: what apply_journal needs, plus the ticket id for rebuilding local presence."""
    return {
        "nonce": nonce,
        "code": code,
        "direction": direction.value,
        "at": at.isoformat(),
        "status": status.value,
        "reason_code": reason_code,
        "ticket_id": ticket_id,
    }


def _offline_ticket(claim, ticket_id: int | None, cache: OfflineCache | None = None) -> dict[str, Any] | None:
    if claim is None:
        return None
    # offline the kind is not known: no names, so the verdict shows the unnamed attention note
    return {
        "id": ticket_id,
        "session_id": claim.session_id,
        "session": None,
        "seat": None,
        "class": None,
        "concession": OFFLINE_CONCESSION if claim.concession else "",
        "concession_names": {},
        **({"holder": holder} if cache is not None and ticket_id and (holder := cache.holder(ticket_id)) else {}),
    }


class GateClient:
    def __init__(
        self,
        gate: str,
        *,
        session_id: int | None = None,
        offline_timeout: float = 1.5,
        probe_interval: float = 1.0,
        sync_interval: float = 30.0,
        journal_path: Path,
        cache_path: Path,
        token: str | None = None,
        revocation_max_age: float = 300.0,
    ) -> None:
        self.gate_code = gate.strip().upper()
        self.session_id = session_id
        self.timeout = offline_timeout
        # uploads and syncs run beside offline scanning: they may take longer than one scan may wait
        self.background_timeout = max(10.0, 5 * offline_timeout)
        self.probe_interval = probe_interval
        self.sync_interval = sync_interval
        self.revocation_max_age = dt.timedelta(seconds=revocation_max_age)
        self.journal = Journal(journal_path)
        self.cache_path = cache_path
        self.cache = OfflineCache.load(cache_path)
        self.admitted_since_sync = Journal(cache_path.with_suffix(".admitted.jsonl"))
        self.token = token
        self.gate: GateInfo | None = None
        self.device: DeviceInfo | None = None
        self.online = False
        self.local: dict[int, Presence] = replay_journal(
            self.admitted_since_sync.pending() + self.journal.pending(), self.cache, self.gate_code
        )
        self._tasks: list[asyncio.Task] = []
        self._typed_at: list[float] = []  # times of the numbers typed offline (the typing limit)
        self._last_sync = 0.0

    # -- database calls, bounded by the offline timeout --------------------------------------------
    async def _call(self, coro, timeout: float | None = None):
        try:
            return await asyncio.wait_for(coro, timeout or self.timeout)
        except DomainError:
            raise
        except Exception as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc

    async def _connect(self) -> None:
        """Resolve the gate (and device), upload any journal left from an earlier run, then sync."""
        gate = await self._call(gate_by_code(self.gate_code))
        if gate is None:
            raise DomainError("No gate with the code {code}.", code=self.gate_code)
        self.gate = gate
        if self.token:
            device = await self._call(device_for_token(self.token))
            if device is None or device.gate.code != gate.code:
                raise DomainError("This device token does not belong to gate {code}.", code=self.gate_code)
            self.device = device
        await self._upload()
        await self._sync()
        self.online = True

    async def _sync(self) -> None:
        self.cache = OfflineCache(await self._call(snapshot(self.gate), self.background_timeout))
        self.cache.save(self.cache_path)
        self.admitted_since_sync.clear()
        self.local = replay_journal(self.journal.pending(), self.cache, self.gate_code)
        self._last_sync = time.monotonic()

    async def refresh_revocations(self) -> None:
        """The revocations since the cache's number (a small delta, every probe while online, issue 11)."""
        if self.cache is None or self.gate is None:
            return
        at = utcnow()
        delta = await self._call(revocations(self.gate, self.cache.revocation_seq), self.background_timeout)
        self.cache.add_revocations(delta, at)
        if delta["revoked"] or delta.get("restored"):
            self.cache.save(self.cache_path)

    async def _upload(self) -> None:
        entries = self.journal.pending()
        if not entries:
            return
        actor = Actor(None, f"scanner:{self.gate_code}", "gate")
        counts = await self._call(
            apply_journal(actor, self.gate, entries, device_id=self.device.id if self.device else None),
            self.background_timeout,
        )
        self.journal.mark_uploaded(len(entries))
        log.warning("journal uploaded: %s", counts)

    def _go_offline(self, why: str) -> None:
        if self.online:
            log.warning("database unavailable (%s): scanning offline", why)
        self.online = False

    async def start(self) -> None:
        try:
            await self._connect()
            log.info("online at gate %s", self.gate_code)
        except DatabaseUnavailable as exc:
            self._go_offline(str(exc))
        self._tasks.append(asyncio.create_task(self._background()))

    async def _background(self) -> None:
        """Probe while offline (and come back by itself); refresh the cache while online."""
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                if not self.online:
                    await self._call(Scan.raw("SELECT 1"))
                    await self._connect()
                    log.warning("database reachable again: back online at gate %s", self.gate_code)
                elif time.monotonic() - self._last_sync >= self.sync_interval:
                    await self._sync()
                else:
                    await self.refresh_revocations()
            except DatabaseUnavailable as exc:
                self._go_offline(str(exc))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A probe caught mid-connect by an outage may never finish cancelling: don't wait on it forever.
            await asyncio.wait(self._tasks, timeout=2)

    # -- scanning ---------------------------------------------------------------------------------
    def _typing_refused(self, code: str, at: dt.datetime) -> dict[str, Any] | None:
        """The verdict refusing a typed number over the device's typing limit (offline the client counts)."""
        if normalise(code) is None:
            return None
        window = TYPED_PER_DEVICE.window.total_seconds()
        self._typed_at = [t for t in self._typed_at if at.timestamp() - t < window] + [at.timestamp()]
        if len(self._typed_at) <= TYPED_PER_DEVICE.attempts:
            return None
        return verdict_dict(Decision(Status.INVALID, "typing_limit", {}), None, None, offline=True)

    async def scan(self, code: str, direction: Direction = Direction.IN) -> dict[str, Any]:
        nonce = uuid.uuid4().hex
        at = utcnow()
        if self.online and self.gate is not None:
            try:
                result = await self._call(
                    redeem(
                        code,
                        self.gate,
                        nonce=nonce,
                        direction=direction.value,
                        session_id=self.session_id,
                        device_id=self.device.id if self.device else None,
                        at=at,
                    )
                )
                if result["status"] == Status.OK and result["ticket"]:
                    ticket_id = result["ticket"]["id"]
                    earlier = self.local.get(ticket_id) or (self.cache.presence.get(ticket_id) if self.cache else None)
                    remember(self.local, ticket_id, self.gate_code, at, direction, earlier)
                    self.admitted_since_sync.append(
                        _entry(nonce, code, direction, at, Status.OK, result["reason_code"], ticket_id)
                    )
                return result
            except TooManyRequests:
                return verdict_dict(Decision(Status.INVALID, "typing_limit", {}), None, None)
            except DatabaseUnavailable as exc:
                self._go_offline(str(exc))
        return self._typing_refused(code, at) or self._scan_offline(code, direction, nonce, at)

    def _scan_offline(self, code: str, direction: Direction, nonce: str, at: dt.datetime) -> dict[str, Any]:
        decision, claim, presence = judge(self.cache, self.local, self.gate_code, code, at, direction, self.session_id)
        ticket_id = claim.ticket_id if claim else None
        if decision.admits:
            remember(self.local, ticket_id, self.gate_code, at, direction, presence)
        self.journal.append(_entry(nonce, code, direction, at, decision.status, decision.reason_key, ticket_id))
        verdict = verdict_dict(decision, _offline_ticket(claim, ticket_id, self.cache), presence, offline=True)
        verdict["revocation_list_stale"] = self.cache is None or self.cache.revocations_stale(
            at, self.revocation_max_age
        )
        return verdict


async def run_frames(
    client: GateClient,
    frames: Iterable[tuple[int, float, Any]],
    debouncer: Debouncer,
    on_verdict: Callable[[dict[str, Any], float, float, Any], bool | None],
    *,
    on_frame: Callable[[Any, float], bool | None] | None = None,
    direction: Direction = Direction.IN,
    realtime: bool = False,
    typed: Callable[[], str | None] | None = None,
) -> None:
    """Feed frames through decode -> debounce -> scan. `on_verdict(verdict, t, arrival, frame)` and
    `on_frame(frame, t)` return False to stop. `realtime` paces a recorded video at its frame times.
    `typed()` gives a short ticket number typed on the keyboard since the last frame (scanner/keypad.py), or None."""
    started = time.perf_counter()
    for _, t, frame in frames:
        if realtime:
            await asyncio.sleep(max(0.0, started + t - time.perf_counter()))
        arrival = time.perf_counter()
        text = debouncer.feed(decode_frame(frame), t)
        if text is not None:
            verdict = await client.scan(text, direction)
            if on_verdict(verdict, t, arrival, frame) is False:
                return
        elif on_frame is not None and on_frame(frame, t) is False:
            return
        number = typed() if typed is not None else None
        if number is not None and on_verdict(await client.scan(number, direction), t, arrival, frame) is False:
            return
        await asyncio.sleep(0)  # let the probe run between frames
