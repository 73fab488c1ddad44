"""Demo gate devices (documented in README's gate section): a turnstile at the city wall's 中华门 entrance
(MC-1, token `demo-gate-key`) and a camera client at the stadium's east gate 1 (AT-E1, token
`demo-gate-key-at-e1`). Idempotent: a token already registered is skipped."""

from __future__ import annotations

from db.catalog.tables import Gate
from db.core.actor import Actor
from db.gate.devices import hash_token, register_device
from db.gate.tables import GateDevice

DEMO_DEVICES = [
    ("MC-1", "中华门 1 号闸机", "demo-gate-key"),
    ("AT-E1", "东1检票口摄像头", "demo-gate-key-at-e1"),
]


async def load(actor: Actor) -> None:
    for gate_code, name, token in DEMO_DEVICES:
        if not await Gate.exists().where(Gate.code == gate_code):
            continue
        if await GateDevice.exists().where(GateDevice.token_sha256 == hash_token(token)):
            continue
        await register_device(actor, gate_code, name, token)
