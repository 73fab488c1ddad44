"""The admission rule: which verdict a gate gives a scan. Pure: no I/O, the same for every client (the
online redeem operation, the offline camera client, the journal upload), tested exhaustively.

Checks run in this order and the first failing one decides: the code (invalid), the ticket (revoked,
unpaid), the session the scanner is set to (wrong_session), the gate and its sections (wrong_gate /
wrong_session), the admission window (invalid_time), then presence (already_redeemed / re-entry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    ALREADY_REDEEMED = "already_redeemed"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNPAID = "unpaid"
    WRONG_GATE = "wrong_gate"
    WRONG_SESSION = "wrong_session"
    INVALID_TIME = "invalid_time"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


# Order statuses whose tickets admit; any other status of a live ticket means the money is not in.
PAID_ORDER_STATUSES = frozenset({"paid"})
# Order statuses that void their tickets (R5.3): refused as revoked, like a revoked ticket.
VOID_ORDER_STATUSES = frozenset({"refunded", "cancelled", "expired", "rejected"})

# Reasons are English msgids (translated by the clients; zh_CN in translations/.../gate_domain.po).
REASONS = {
    "unreadable": "This is not a ticket code of ours. Ask for the ticket again or send the visitor to the box office.",
    "unknown": "No such ticket. Send the visitor to the box office.",
    "mistyped": "This ticket number has a typing error (its last digit does not match). Type the 11 digits again.",
    "revoked": "This ticket was refunded, exchanged or cancelled. Send the visitor to the box office.",
    "unpaid": "This ticket is not paid. Send the visitor to the box office.",
    "scanner_session": "This ticket is for another session.",
    "other_venue": "This ticket is for another session or venue.",
    "other_gate": "This ticket is not admitted at this gate. Show the visitor the right gate.",
    "section": "This gate does not admit section {section}. Show the visitor the right gate.",
    "too_early": "Admission has not opened yet. It opens at {opens_at}.",
    "too_late": "Admission closed at {closes_at}.",
    "already_inside": "Already admitted at {gate} at {at}.",
    "no_reentry": "Already admitted at {gate} at {at}; this session allows no re-entry.",
    "not_inside": "This ticket is not inside; there is no entry to end.",
    "welcome": "Welcome.",
    "welcome_back": "Welcome back.",
    "goodbye": "Exit recorded.",
    "typing_limit": "Too many ticket numbers typed on this device. Wait a minute, or scan the QR code.",
    "journaled": "This scan was already recorded from the gate's offline journal.",
    "nonce_reused": "This scan repeats another scan's nonce with another code or device. Nobody was admitted.",
}
# The attention note of an admitted concession ticket (R3.6), naming its kind by its display name; unnamed
# where the kind is not known (offline: the signed code only says "a concession").
ATTENTION = "{kind} concession: check the ID before letting the visitor in."
ATTENTION_UNNAMED = "Concession ticket: check the ID before letting the visitor in."
# The attention note of an entry admitted offline at a gate limited to some sections when the ticket's section is
# not known there (sold after the gate's last sync, R9.2): the attendant checks the section printed on the ticket.
ATTENTION_SECTION = (
    "Section not known offline: check the section printed on the ticket. This gate admits only {sections}."
)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the database (or the offline cache) knows about the scanned ticket."""

    ticket_id: int
    session_id: int
    status: str  # issued | revoked
    order_status: str  # paid | refunded | ...; "paid" when only the signature is known (offline)
    concession: str  # '' or the concession kind
    section: str | None  # the seat's section; None for general admission or when not known
    session_venue: int | None  # None when unknown (offline): venue checks are then skipped
    section_known: bool = True  # False offline for a ticket sold after the last sync: the attendant checks it


@dataclass(frozen=True, slots=True)
class SessionFacts:
    opens_at: dt.datetime
    closes_at: dt.datetime
    reentry_allowed: bool


@dataclass(frozen=True, slots=True)
class GateFacts:
    """The gate scanning, and the sections it admits for the ticket's session.

    `admits_session` is False when the gate does not serve the ticket's session; `sections` is the
    SessionGate limit (empty: every section)."""

    gate_id: int
    venue_id: int
    admits_session: bool
    sections: frozenset[str]
    scanner_session: int | None = None  # the session the scanner is set to, if any


@dataclass(frozen=True, slots=True)
class Presence:
    inside: bool
    first_entry_at: dt.datetime
    first_gate: str  # gate code


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reason_key: str
    params: dict
    attention: bool = False
    attention_kind: str = ""
    check_sections: tuple[str, ...] = ()  # an admitted entry whose section the attendant checks: the gate's sections

    @property
    def reason(self) -> str:
        """The English reason with its parameters filled in."""
        return REASONS[self.reason_key].format(**self.params)

    @property
    def admits(self) -> bool:
        return self.status is Status.OK


def _reject(status: Status, key: str, **params: object) -> Decision:
    return Decision(status, key, params)


def parse_sections(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def decide(
    ticket: TicketFacts | None,
    session: SessionFacts | None,
    gate: GateFacts,
    presence: Presence | None,
    now: dt.datetime,
    direction: Direction = Direction.IN,
    *,
    code_valid: bool = True,
    mistyped: bool = False,
) -> Decision:
    """The verdict for one scan. `code_valid` False: the code did not verify (unreadable, forged, altered);
    `mistyped`: a typed short ticket number whose check digit does not match; `ticket` None with a valid code:
    the ticket does not exist."""
    if mistyped:
        return _reject(Status.INVALID, "mistyped")
    if not code_valid:
        return _reject(Status.INVALID, "unreadable")
    if ticket is None or session is None:
        return _reject(Status.INVALID, "unknown")
    if ticket.status == "revoked" or ticket.order_status in VOID_ORDER_STATUSES:
        return _reject(Status.REVOKED, "revoked")
    if ticket.order_status not in PAID_ORDER_STATUSES:
        return _reject(Status.UNPAID, "unpaid")
    if gate.scanner_session is not None and gate.scanner_session != ticket.session_id:
        return _reject(Status.WRONG_SESSION, "scanner_session")
    if not gate.admits_session:
        if ticket.session_venue is not None and ticket.session_venue != gate.venue_id:
            return _reject(Status.WRONG_SESSION, "other_venue")
        return _reject(Status.WRONG_GATE, "other_gate")
    if gate.sections and ticket.section is not None and ticket.section not in gate.sections:
        return _reject(Status.WRONG_GATE, "section", section=ticket.section)
    check_sections = tuple(sorted(gate.sections)) if gate.sections and not ticket.section_known else ()
    if direction is Direction.OUT:
        if presence is None or not presence.inside:
            return _reject(Status.INVALID, "not_inside")
        return Decision(Status.OK, "goodbye", {})
    if now < session.opens_at:
        return _reject(Status.INVALID_TIME, "too_early", opens_at=session.opens_at)
    if now > session.closes_at:
        return _reject(Status.INVALID_TIME, "too_late", closes_at=session.closes_at)
    if presence is not None:
        if presence.inside:
            return _reject(
                Status.ALREADY_REDEEMED, "already_inside", gate=presence.first_gate, at=presence.first_entry_at
            )
        if not session.reentry_allowed:
            return _reject(Status.ALREADY_REDEEMED, "no_reentry", gate=presence.first_gate, at=presence.first_entry_at)
    return Decision(
        Status.OK,
        "welcome" if presence is None else "welcome_back",
        {},
        attention=bool(ticket.concession or check_sections),
        attention_kind=ticket.concession,
        check_sections=check_sections,
    )


def concession_name(ticket: dict[str, Any] | None, language: str) -> str:
    """The display name of a verdict's ticket's concession kind in `language` (zh_CN or en; English where
    that one is missing), from ticket["concession_names"]; '' when there is none or it is not known."""
    names = (ticket or {}).get("concession_names") or {}
    return names.get(language) or names.get("en") or ""


def attention_text(verdict: dict[str, Any], language: str, gettext: Callable[..., str]) -> str:
    """The attention note of an admitting verdict in `language` (the section to check, then the concession ID
    to check); `gettext(msgid, **params)` translates into it."""
    notes = []
    if sections := verdict.get("check_sections"):
        notes.append(gettext(ATTENTION_SECTION, sections=", ".join(sections)))
    ticket = verdict.get("ticket") or {}
    if ticket.get("concession"):
        name = concession_name(ticket, language)
        notes.append(gettext(ATTENTION, kind=name) if name else gettext(ATTENTION_UNNAMED))
    return " ".join(notes)
