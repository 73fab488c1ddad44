"""Gate devices (turnstiles, hardware readers, camera clients) and their bearer tokens.

Only the SHA-256 of a token is stored. Lookups are cached for a few seconds: the redeem hot path does
not pay a query per request, and a deactivated device is refused within DEVICE_CACHE_SECONDS."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from db.audit.record import record
from db.catalog.tables import Gate
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.transaction import write_transaction
from db.gate.tables import GateDevice

log = logging.getLogger("ticketcenter.gate")

DEVICE_CACHE_SECONDS = 10.0
GATE_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class GateInfo:
    id: int
    code: str
    venue_id: int


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    name: str
    gate: GateInfo


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_gates: dict[str, tuple[float, GateInfo | None]] = {}
_devices: dict[str, tuple[float, DeviceInfo | None]] = {}


def forget_cached() -> None:
    """Drop the caches (tests that empty the tables between cases call this)."""
    _gates.clear()
    _devices.clear()


async def gate_by_code(code: str) -> GateInfo | None:
    code = (code or "").strip().upper()
    hit = _gates.get(code)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = await Gate.select(Gate.id, Gate.code, Gate.venue).where(Gate.code == code).first()
    info = GateInfo(row["id"], row["code"], row["venue"]) if row else None
    _gates[code] = (time.monotonic() + GATE_CACHE_SECONDS, info)
    return info


async def device_for_token(token: str) -> DeviceInfo | None:
    """The active device a bearer token belongs to, or None. Marks the device seen (at most once per
    cache period, so the hot path stays a dictionary lookup)."""
    digest = hash_token(token)
    hit = _devices.get(digest)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = (
        await GateDevice.select(
            GateDevice.id, GateDevice.name, GateDevice.gate.id, GateDevice.gate.code, GateDevice.gate.venue
        )
        .where((GateDevice.token_sha256 == digest) & GateDevice.active.eq(True))
        .first()
    )
    info = None
    if row:
        info = DeviceInfo(row["id"], row["name"], GateInfo(row["gate.id"], row["gate.code"], row["gate.venue"]))
        try:
            await GateDevice.update({GateDevice.last_seen: utcnow()}).where(GateDevice.id == info.id)
        except Exception as exc:
            log.warning("gate device %s: last_seen not updated (%s)", info.id, type(exc).__name__)
    _devices[digest] = (time.monotonic() + DEVICE_CACHE_SECONDS, info)
    return info


async def register_device(actor: Actor, gate_code: str, name: str, token: str | None = None) -> tuple[int, str]:
    """Register a device at a gate; returns (device id, token). The token is shown once: only its hash is kept."""
    name = name.strip()
    if not name:
        raise InvalidInput("Name the device.", field="name")
    token = token or secrets.token_urlsafe(24)
    if len(token) < 12:
        raise InvalidInput("A device token needs at least 12 characters.", field="token")
    async with write_transaction(GateDevice._meta.db):
        gate = await Gate.select(Gate.id).where(Gate.code == gate_code.strip().upper()).first()
        if gate is None:
            raise NotFound("No gate with the code {code}.", code=gate_code)
        if await GateDevice.exists().where(GateDevice.token_sha256 == hash_token(token)):
            raise Conflict("This device token is in use already.", field="token")
        device_id = (
            await GateDevice.insert(
                GateDevice(gate=gate["id"], name=name, token_sha256=hash_token(token), created_at=utcnow())
            ).returning(GateDevice.id)
        )[0]["id"]
        await record(actor, "gate.device.register", "gate_device", device_id, after={"gate": gate_code, "name": name})
    return device_id, token


async def deactivate_device(actor: Actor, device_id: int) -> None:
    async with write_transaction(GateDevice._meta.db):
        rows = (
            await GateDevice.update({GateDevice.active: False})
            .where(
                (GateDevice.id == device_id) & (GateDevice.active == True)  # noqa: E712
            )
            .returning(GateDevice.id)
        )
        if not rows:
            raise NotFound("No such active device.")
        await record(actor, "gate.device.deactivate", "gate_device", device_id, after={"active": False})
    _devices.clear()
