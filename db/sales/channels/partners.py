"""Partner platforms and their API keys (R3.3). Only the SHA-256 of a key is stored; a key's lookup is
cached for a few seconds because every partner API request needs it."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import InvalidInput
from db.core.transaction import queued_write
from db.sales.tables import Partner, PartnerKey

CACHE_SECONDS = 10.0
_cache: dict[str, tuple[float, PartnerIdentity | None]] = {}


@dataclass(frozen=True, slots=True)
class PartnerIdentity:
    id: int
    name: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=None, name=f"partner:{self.name}", role="partner")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_partner_key(actor: Actor, partner_name: str, key: str | None = None) -> str:
    """Give a partner (created if new) an API key; returns the key, shown once."""
    name = partner_name.strip()
    if not name or len(name) > 60:
        raise InvalidInput("A partner needs a name of up to 60 characters.", field="name")
    key = key or secrets.token_urlsafe(32)
    async with queued_write(Partner._meta.db):
        row = await Partner.select(Partner.id).where(Partner.name == name).first()
        partner_id = (
            row["id"]
            if row
            else (await Partner.insert(Partner(name=name, created_at=utcnow())).returning(Partner.id))[0]["id"]
        )
        await PartnerKey.insert(PartnerKey(partner=partner_id, key_sha256=key_hash(key), created_at=utcnow()))
        await record(actor, "partner.key", "partner", partner_id, after={"name": name})
    return key


async def revoke_partner_keys(actor: Actor, partner_name: str) -> None:
    async with queued_write(Partner._meta.db):
        await PartnerKey.update({PartnerKey.active: False}).where(PartnerKey.partner.name == partner_name)
        await record(actor, "partner.revoke", "partner", partner_name)
    forget_cached_keys()


def forget_cached_keys() -> None:
    """Drop this process's key cache (other workers keep theirs for at most CACHE_SECONDS)."""
    _cache.clear()


async def partner_for_key(key: str) -> PartnerIdentity | None:
    """The active partner owning this API key, or None."""
    digest = key_hash(key)
    hit = _cache.get(digest)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = (
        await PartnerKey.select(PartnerKey.partner, PartnerKey.partner.name)
        .where(
            (PartnerKey.key_sha256 == digest) & (PartnerKey.active == True) & (PartnerKey.partner.active == True)  # noqa: E712
        )
        .first()
    )
    found = PartnerIdentity(row["partner"], row["partner.name"]) if row else None
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (time.monotonic() + CACHE_SECONDS, found)
    return found
