"""The redeem operation: one scan at one gate -> one verdict, recorded.

Hot path (the JSON endpoint's): verify the signature (no I/O), one pooled connection per scan, one
SELECT that joins the ticket, its order, session, seat, price class, the gate's SessionGate row and the
ticket's presence; then the rule (db.gate.rules.decide) and the write. On PostgreSQL an accepted first
entry is ONE statement (presence INSERT ... ON CONFLICT DO NOTHING and the Scan INSERT in a CTE); a
rejection is one Scan INSERT. Everything else (exits, re-entries, SQLite, a lost race) takes the careful
path: a short write transaction with the conditional presence write (INSERT ... ON CONFLICT DO NOTHING
RETURNING / UPDATE ... WHERE inside = <expected> RETURNING), a re-read and re-decision if it lost, and
the Scan INSERT. Exactly one `ok` per ticket and entry holds on both engines because only one of any
number of concurrent presence writes returns a row."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from db.core.actor import Actor
from db.core.clock import VENUE_TIMEZONE, utcnow, venue_minute
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.throttle import Limit, attempt
from db.gate.devices import GateInfo, gate_by_code
from db.gate.live import announce
from db.gate.presence import Replayed, connection, first_entry_with_scan, insert_scan, presence_row, write_presence
from db.gate.rules import (
    REASONS,
    Decision,
    Direction,
    GateFacts,
    Presence,
    SessionFacts,
    Status,
    TicketFacts,
    attention_text,
    decide,
    parse_sections,
)
from db.gate.tables import Scan
from db.sales.tickets.codes import TicketClaim, keyring
from db.sales.tickets.short_numbers import check_digit_ok, normalise

_TICKET_SQL = """
SELECT t.id, t.session, t.status, t.short_code, t.concession, ck.name_zh AS concession_zh, ck.name_en AS concession_en,
       o.status AS order_status,
       s.admission_opens_at, s.admission_closes_at, s.reentry_allowed, s.venue AS session_venue, s.starts_at,
       e.name AS event_name, v.timezone, pc.name AS class_name, st.section, st.row_label, st.number,
       sg.id AS session_gate, sg.sections AS gate_sections,
       a.inside, a.first_entry_at, fg.code AS first_gate, h.name AS holder_name, h.id_masked AS holder_id
FROM ticket t
JOIN sales_order o ON o.id = t."order"
JOIN event_session s ON s.id = t.session
JOIN event e ON e.id = s.event
JOIN venue v ON v.id = s.venue
JOIN price_class pc ON pc.id = t.price_class
LEFT JOIN seat st ON st.id = t.seat
LEFT JOIN sales_concession_kind ck ON ck.code = t.concession
LEFT JOIN session_gate sg ON sg.session = t.session AND sg.gate = {}
LEFT JOIN gate_admission a ON a.ticket = t.id
LEFT JOIN gate fg ON fg.id = a.first_gate
LEFT JOIN inventory_ticket_holder h ON h.ticket = t.id
WHERE t.id = {}
"""
# A typed short ticket number (db/sales/tickets/short_numbers.py) finds its ticket by the unique short_code.
_TICKET_BY_NUMBER_SQL = _TICKET_SQL.replace("WHERE t.id = {}", "WHERE t.short_code = {}")
# Typing is rate-limited per device (a tablet: per attendant and gate), so numbers cannot be tried in bulk.
TYPED_PER_DEVICE = Limit(int(os.environ.get("GATE_TYPED_PER_MINUTE", 20)), dt.timedelta(minutes=1))
TYPED_ATTEMPT = "gate.typed_number"


def _params(decision: Decision, timezone: str) -> dict[str, str]:
    return {k: venue_minute(v, timezone) if isinstance(v, dt.datetime) else str(v) for k, v in decision.params.items()}


def _english(message: str, **params: object) -> str:
    return message.format(**params)


def verdict_dict(
    decision: Decision,
    ticket: dict[str, Any] | None,
    presence: Presence | None,
    *,
    offline: bool = False,
    timezone: str = VENUE_TIMEZONE.key,
) -> dict[str, Any]:
    """The verdict every client shows the same way (see db/gate/__init__.py for the fields); its times in the
    venue's `timezone`."""
    params = _params(decision, timezone)
    first_entry = None
    if decision.status is Status.ALREADY_REDEEMED and presence is not None:
        first_entry = {"at": presence.first_entry_at.astimezone(dt.UTC).isoformat(), "gate": presence.first_gate}
    verdict = {
        "status": decision.status.value,
        "reason": REASONS[decision.reason_key].format(**params),
        "reason_code": decision.reason_key,
        "reason_params": params,
        "ticket": ticket,
        "attention": decision.attention,
        "check_sections": list(decision.check_sections),
        "first_entry": first_entry,
        "offline": offline,
    }
    verdict["attention_text"] = attention_text(verdict, "en", _english) if decision.attention else ""
    return verdict


def _seat(row: dict) -> dict[str, Any] | None:
    """The seat's parts; each client words it in its language with db.core.i18n.seat_label(**seat, language=...)."""
    if row["section"] is None:
        return None
    return {"section": row["section"], "row": row["row_label"], "number": row["number"]}


def _ticket_view(row: dict) -> dict[str, Any]:
    view = {
        "id": row["id"],
        "short_code": row["short_code"] or "",
        "session_id": row["session"],
        "session": f"{row['event_name']} {venue_minute(row['starts_at'], row['timezone'])}",
        "seat": _seat(row),
        "class": row["class_name"],
        "concession": row["concession"] or "",
        "concession_names": {"zh_CN": row["concession_zh"], "en": row["concession_en"]} if row["concession_en"] else {},
    }
    if row.get("holder_name"):  # a real-name session's holder (issue 13): the attendant matches the person to the ID
        view["holder"] = {"name": row["holder_name"], "id_masked": row["holder_id"]}
    return view


def _presence(row: dict | None) -> Presence | None:
    if row is None or row["inside"] is None:
        return None
    return Presence(bool(row["inside"]), row["first_entry_at"], row["first_gate"])


def _facts(row: dict, gate: GateInfo, scanner_session: int | None) -> tuple[TicketFacts, SessionFacts, GateFacts]:
    ticket = TicketFacts(
        ticket_id=row["id"],
        session_id=row["session"],
        status=row["status"],
        order_status=row["order_status"],
        concession=row["concession"] or "",
        section=row["section"],
        session_venue=row["session_venue"],
    )
    session = SessionFacts(row["admission_opens_at"], row["admission_closes_at"], bool(row["reentry_allowed"]))
    gate_facts = GateFacts(
        gate_id=gate.id,
        venue_id=gate.venue_id,
        admits_session=row["session_gate"] is not None,
        sections=parse_sections(row["gate_sections"] or ""),
        scanner_session=scanner_session,
    )
    return ticket, session, gate_facts


async def _stored_result(
    nonce: str, ticket_id: int | None, device_id: int | None, attendant_id: int | None
) -> dict[str, Any] | None:
    """The outcome recorded for this nonce when this is the same scan again (same ticket, same device or
    attendant); None when the nonce was used for another code or by another device."""
    row = (
        await Scan.select(Scan.result, Scan.ticket, Scan.device, Scan.attendant)
        .where(Scan.nonce == nonce)
        .output(load_json=True)
        .first()
    )
    if row is None:  # the first attempt's transaction rolled back after all: nothing to replay
        raise NotFound("The scan to repeat was not recorded. Scan the ticket again.")
    if (row["ticket"], row["device"], row["attendant"]) != (ticket_id, device_id, attendant_id):
        return None
    stored = row["result"]
    if "reason_params" not in stored:  # recorded from a gate's offline journal, where only the outcome is kept
        stored = verdict_dict(Decision(Status(stored["status"]), "journaled", {}), None, None, offline=True)
    return {**stored, "replayed": True}


def _parse(code: str, direction: str, nonce: str | None) -> tuple[TicketClaim | None, str | None, Direction]:
    """(the verified claim of a QR code, the digits of a typed short number, the direction)."""
    if not isinstance(code, str) or len(code) > 512:
        raise InvalidInput("Send the scanned code as text (at most 512 characters).", field="code")
    try:
        parsed_direction = Direction(direction)
    except ValueError:
        raise InvalidInput("The direction must be in or out.", field="direction") from None
    if nonce is not None and not (1 <= len(nonce) <= 80):
        raise InvalidInput("A nonce has 1 to 80 characters.", field="nonce")
    number = normalise(code)
    return (None if number else keyring().verify(code)), number, parsed_direction


def typing_device(gate: GateInfo, device_id: int | None, attendant: Actor | None) -> str:
    """Who is typing, for the rate limit: the device, else the attendant at this gate, else the gate."""
    if device_id is not None:
        return f"device:{device_id}"
    if attendant is not None and attendant.user_id is not None:
        return f"staff:{attendant.user_id}@{gate.code}"
    return f"gate:{gate.code}"


async def redeem(
    code: str,
    gate: str | GateInfo,
    *,
    nonce: str | None = None,
    direction: str = "in",
    session_id: int | None = None,
    device_id: int | None = None,
    attendant: Actor | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check one scanned code at a gate and record the scan. Returns the verdict dict (never raises for a
    rejected ticket; raises InvalidInput/NotFound only for a malformed request or an unknown gate, and
    TooManyRequests for a device typing more short numbers than TYPED_PER_DEVICE allows).

    `code` is the QR text or the ticket's short number (11 digits, spaces and hyphens allowed): the same
    verdicts, the same exactly-once rule."""
    claim, number, parsed_direction = _parse(code, direction, nonce)
    gate_info = gate if isinstance(gate, GateInfo) else await gate_by_code(gate)
    if gate_info is None:
        raise NotFound("No gate with the code {code}.", field="gate", code=str(gate))
    mistyped = number is not None and not check_digit_ok(number)
    if number is not None:
        await attempt(typing_device(gate_info, device_id, attendant), TYPED_ATTEMPT, TYPED_PER_DEVICE)
    scoped_nonce = f"{gate_info.code}:{nonce}" if nonce else None
    now = at or utcnow()
    async with connection() as db:
        if claim is not None:
            row = await db.fetch(_TICKET_SQL, gate_info.id, claim.ticket_id)
            row = row[0] if row and row[0]["session"] == claim.session_id else None
        elif number is not None and not mistyped:
            row = await db.fetch(_TICKET_BY_NUMBER_SQL, gate_info.id, number)
            row = row[0] if row else None
        else:
            row = None
        ticket = view = presence = None
        zone = row["timezone"] if row else VENUE_TIMEZONE.key
        if row is None:
            unknown_gate = GateFacts(gate_info.id, gate_info.venue_id, False, frozenset(), session_id)
            code_valid = claim is not None or number is not None
            decision = decide(
                None, None, unknown_gate, None, now, parsed_direction, code_valid=code_valid, mistyped=mistyped
            )
        else:
            ticket, session, gate_facts = _facts(row, gate_info, session_id)
            view, presence = _ticket_view(row), _presence(row)
            decision = decide(ticket, session, gate_facts, presence, now, parsed_direction)
        attendant_id = attendant.user_id if attendant else None
        recorded = False
        if decision.admits and presence is None and parsed_direction is Direction.IN and db.one_statement_entry:
            result = verdict_dict(decision, view, None, timezone=zone)
            recorded = await first_entry_with_scan(
                db,
                ticket_id=ticket.ticket_id,
                session_id=ticket.session_id,
                gate_id=gate_info.id,
                at=now,
                device_id=device_id,
                attendant_id=attendant_id,
                result=result,
                nonce=scoped_nonce,
            )
        if not recorded:  # the careful path: rejections, exits, re-entries, SQLite, and lost races
            try:
                # A rejection writes only its Scan row: no transaction needed around one statement.
                async with db.writing(transaction=decision.admits):
                    if decision.admits and not await write_presence(
                        db, presence is None, ticket.ticket_id, ticket.session_id, gate_info.id, now, parsed_direction
                    ):
                        presence = _presence(await presence_row(db, ticket.ticket_id))
                        decision = decide(ticket, session, gate_facts, presence, now, parsed_direction)
                        if presence is None:  # no entry, yet the first entry failed: refunded meanwhile
                            decision = Decision(Status.REVOKED, "revoked", {})
                        elif decision.admits:  # the presence moved on between our read and our write
                            decision = Decision(
                                Status.ALREADY_REDEEMED,
                                "already_inside",
                                {"gate": presence.first_gate, "at": presence.first_entry_at},
                            )
                    result = verdict_dict(decision, view, presence, timezone=zone)
                    await insert_scan(
                        db,
                        at=now,
                        gate=gate_info,
                        device_id=device_id,
                        attendant_id=attendant_id,
                        session_id=ticket.session_id if ticket else None,
                        ticket_id=ticket.ticket_id if ticket else None,
                        direction=parsed_direction,
                        result=result,
                        offline=False,
                        nonce=scoped_nonce,
                    )
            except Replayed:
                ticket_id = ticket.ticket_id if ticket else None
                replayed = await _stored_result(scoped_nonce, ticket_id, device_id, attendant_id)
                if replayed is not None:
                    return replayed
                async with db.writing(transaction=False):  # another code or device: nobody admitted, recorded
                    await insert_scan(
                        db,
                        at=now,
                        gate=gate_info,
                        device_id=device_id,
                        attendant_id=attendant_id,
                        session_id=ticket.session_id if ticket else None,
                        ticket_id=ticket_id,
                        direction=parsed_direction,
                        result=verdict_dict(Decision(Status.INVALID, "nonce_reused", {}), view, None),
                        offline=False,
                        nonce=None,
                    )
                raise Conflict(
                    "This nonce was used for another code or device. Nobody was admitted: scan the ticket again.",
                    field="nonce",
                ) from None
    if not recorded:  # the one-statement entry announced itself
        await announce(ticket.session_id if ticket else None)  # live dashboards (db/gate/live.py)
    return result
