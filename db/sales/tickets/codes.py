"""The text of a ticket's QR code: signed so that a gate can check it without the server.

Layout (74 bytes, then RFC 4648 base32 without padding = 119 characters, all in the QR alphanumeric set,
so the code is a version 5 symbol at error level M):

    header   1 byte   high nibble: format version, low nibble: signing key id
    ticket   4 bytes  ticket id (big endian)
    session  4 bytes  session id
    flags    1 byte   bit 0: concession ticket, the gate re-checks the ID (R3.6)
    sig     64 bytes  Ed25519 over the 10 bytes before it

Only the center holds the private key; gates and scanners hold the public keys (by key id), so a lost
scanner cannot mint tickets. Altering any character breaks the signature."""

from __future__ import annotations

import base64
import binascii
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from db.core.engine import ROOT

FORMAT_VERSION = 1
_BODY = struct.Struct(">BIIB")
_SIG_LEN = 64
CODE_LENGTH = 119
FLAG_CONCESSION = 0x01


@dataclass(frozen=True, slots=True)
class TicketClaim:
    """What a verified code says about its ticket."""

    ticket_id: int
    session_id: int
    concession: bool
    key_id: int


def sign(private_key: Ed25519PrivateKey, key_id: int, ticket_id: int, session_id: int, concession: bool) -> str:
    if not 0 <= key_id < 16:
        raise ValueError("key_id must fit in 4 bits")
    body = _BODY.pack((FORMAT_VERSION << 4) | key_id, ticket_id, session_id, FLAG_CONCESSION if concession else 0)
    raw = body + private_key.sign(body)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def verify(text: str, public_keys: dict[int, Ed25519PublicKey]) -> TicketClaim | None:
    """The claim of a genuine code, or None for anything unreadable, altered, forged or unknown-keyed."""
    text = text.strip().upper()
    if len(text) != CODE_LENGTH:
        return None
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != text:
        return None  # non-canonical: the last character's spare bits were changed
    body, signature = raw[: _BODY.size], raw[_BODY.size :]
    if len(signature) != _SIG_LEN:
        return None
    header, ticket_id, session_id, flags = _BODY.unpack(body)
    if header >> 4 != FORMAT_VERSION:
        return None
    key = public_keys.get(header & 0x0F)
    if key is None:
        return None
    try:
        key.verify(signature, body)
    except InvalidSignature:
        return None
    return TicketClaim(ticket_id, session_id, bool(flags & FLAG_CONCESSION), header & 0x0F)


class KeyRing:
    """The center's signing key and the public keys gates accept.

    The private key comes from TICKET_SIGNING_KEY (base64 of the 32 raw bytes) or from
    var/ticket-signing.key, created on first use with mode 0600."""

    def __init__(self, private_key: Ed25519PrivateKey, key_id: int = 1) -> None:
        self.private_key = private_key
        self.key_id = key_id
        self.public_keys: dict[int, Ed25519PublicKey] = {key_id: private_key.public_key()}

    @classmethod
    def load(cls, path: Path | None = None) -> KeyRing:
        env = os.environ.get("TICKET_SIGNING_KEY")
        if env:
            return cls(Ed25519PrivateKey.from_private_bytes(base64.b64decode(env)))
        path = path or ROOT / "var" / "ticket-signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = Ed25519PrivateKey.generate().private_bytes_raw()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
        return cls(Ed25519PrivateKey.from_private_bytes(path.read_bytes()))

    def sign(self, ticket_id: int, session_id: int, concession: bool = False) -> str:
        return sign(self.private_key, self.key_id, ticket_id, session_id, concession)

    def verify(self, text: str) -> TicketClaim | None:
        return verify(text, self.public_keys)

    def export_public(self) -> dict[int, str]:
        """Public keys for offline scanners: key id -> base64 raw key."""
        return {
            kid: base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
            for kid, key in self.public_keys.items()
        }


_ring: KeyRing | None = None


def keyring() -> KeyRing:
    global _ring
    if _ring is None:
        _ring = KeyRing.load()
    return _ring
