"""Check-in API for turnstiles, hardware readers and the tablet gate page (issue 4).

POST /api/v1/checkin/redeem  {"code", "gate"?, "nonce"?, "direction"?: "in"|"out", "session_id"?}
    -> 200 {"status", "reason", "reason_code", "ticket", "attention", "attention_text", "first_entry"}
       for every verdict, rejections included; 4xx problem JSON only for a malformed request or bad
       credentials, and a 409 problem for a nonce already used for another code or by another device
       (nobody admitted; the attempt is recorded). `reason`, `attention_text`, `ticket.seat` ("池座 1排5座" /
       "池座 row 1, seat 5", null for general admission) and `ticket.concession_name` (the concession kind's
       display name, '' for none) are in the request's language (zh_CN unless the `lang` cookie says en);
       `reason_code` and `ticket.concession` (the kind's code) are stable for machines.
GET  /api/v1/checkin/sync     -> the gate's offline cache (db.gate.sync.snapshot); `since=N`: the revocation delta.
    Where the gate admits only some sections of a seated session, that session's entry also has
    "ticket_sections" {section: [[first ticket id, last ticket id], ...]} (every issued ticket; a ticket
    in none was sold after the sync: admit it only after checking the section printed on it).
POST /api/v1/checkin/journal  {"entries": [...]} -> {"recorded", "already_recorded", "conflicts"};
    an offline reader's journal (db.gate.sync.apply_journal).

Credentials: `Authorization: Bearer <device token>` (the device's gate is the gate; a different "gate"
in the body is refused), or a signed-in staff session with GATE_SCAN (the tablet gate page, which works
offline too): it names the gate (`gate` in the body, or `?gate=` for sync) and sends the page's CSRF token in
`x-csrftoken` with every POST."""

from __future__ import annotations

from secrets import compare_digest
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromQuery, JSONBody

from db.core.actor import Actor
from db.core.errors import InvalidInput, NotFound
from db.gate.devices import DeviceInfo, GateInfo, device_for_token, gate_by_code
from db.gate.redeem import redeem
from db.gate.rules import REASONS, attention_text, concession_name
from db.gate.sync import MAX_JOURNAL_ENTRIES, apply_journal, revocations, snapshot
from db.staff.accounts import StaffPrincipal
from db.staff.permissions import Permission
from web.errors import problem_responses
from web.forms import MAX_ID, whole_number
from web.i18n import current_language, gettext, seat_label
from web.settings import secret_key

DEVICE = {"device": True}
_csrf_secret = secret_key()


def _csrf_ok(request: Request) -> bool:
    """The staff-session variant must carry the page's CSRF token (the /api/ prefix skips the middleware)."""
    header, cookie = request.headers.get("x-csrftoken", ""), request.cookies.get("csrftoken", "")
    if len(header) <= CSRF_SECRET_LENGTH or len(cookie) <= CSRF_SECRET_LENGTH:
        return False
    valid = all(
        compare_digest(
            token[CSRF_SECRET_LENGTH:], generate_csrf_hash(token=token[:CSRF_SECRET_LENGTH], secret=_csrf_secret)
        )
        for token in (header, cookie)
    )
    return valid and compare_digest(header[:CSRF_SECRET_LENGTH], cookie[:CSRF_SECRET_LENGTH])


async def _device(request: Request) -> DeviceInfo | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    device = await device_for_token(token.strip())
    if device is None:
        raise NotAuthorizedException("Unknown or inactive device token.")
    return device


def _staff(request: Request) -> Actor:
    user: StaffPrincipal | None = request.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Send a device token (Authorization: Bearer <token>) or sign in.")
    if not user.can(Permission.GATE_SCAN):
        raise PermissionDeniedException(f"This needs the permission {Permission.GATE_SCAN.value}.")
    if request.method != "GET" and not _csrf_ok(request):
        raise PermissionDeniedException("Send the page's CSRF token in the x-csrftoken header.")
    return user.actor


async def _scanner(request: Request, gate: str | None) -> tuple[Actor | None, DeviceInfo | None, GateInfo]:
    """Who scans where: a device at its gate, or a signed-in attendant (the tablet page) at the gate named."""
    device = await _device(request)
    if device is not None:
        return None, device, device.gate
    actor = _staff(request)
    if not gate:
        raise InvalidInput("Name the gate you scan at.", field="gate")
    found = await gate_by_code(gate.strip().upper())
    if found is None:
        raise NotFound("No gate with the code {code}.", code=gate.strip().upper()[:20])
    return actor, None, found


def _optional_id(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("{name} must be a whole number.", field=name, name=name)
    return whole_number(value, field=name, minimum=1, maximum=MAX_ID)


def _optional_str(data: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is not None and not isinstance(value, str):
        raise InvalidInput("{name} must be text.", field=name, name=name)
    return value


def translated(result: dict[str, Any]) -> dict[str, Any]:
    """The verdict in the request's language (reason, seat, concession name and attention text), for people at
    the gate."""
    language, ticket = current_language.get(), result["ticket"]
    out = {k: v for k, v in result.items() if k not in ("reason_params", "offline", "check_sections")}
    out["reason"] = gettext(REASONS[result["reason_code"]], **result["reason_params"])
    if ticket is not None:
        out["ticket"] = {k: v for k, v in ticket.items() if k != "concession_names"}
        seat = ticket["seat"]  # its parts; a text in answers recorded before seats were worded per language
        out["ticket"]["seat"] = seat_label(**seat) if isinstance(seat, dict) else seat
        out["ticket"]["concession_name"] = concession_name(ticket, language)
    if result["attention"]:
        out["attention_text"] = attention_text(result, language, gettext)
    return out


@post(
    "/api/v1/checkin/redeem",
    opt=DEVICE,
    status_code=200,
    tags=["check-in"],
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
async def redeem_scan(request: Request, data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """Redeem one scanned code at a gate; answers 200 with the verdict, rejections included."""
    device = await _device(request)
    actor = None if device else _staff(request)
    code = _optional_str(data, "code")
    if not code:
        raise InvalidInput("Send the scanned code as text (at most 512 characters).", field="code")
    gate = _optional_str(data, "gate")
    if device is not None:
        if gate and gate.strip().upper() != device.gate.code:
            raise PermissionDeniedException(f"This device scans at gate {device.gate.code}, not {gate}.")
        gate_ref = device.gate
    elif not gate:
        raise InvalidInput("Name the gate you scan at.", field="gate")
    else:
        gate_ref = gate
    result = await redeem(
        code,
        gate_ref,
        nonce=_optional_str(data, "nonce"),
        direction=_optional_str(data, "direction", "in") or "in",
        session_id=_optional_id(data, "session_id"),
        device_id=device.id if device else None,
        attendant=actor,
    )
    return translated(result)


@get("/api/v1/checkin/sync", opt=DEVICE, tags=["check-in"], responses=problem_responses(401, 403, 404, 422))
async def sync(
    request: Request, since: FromQuery[str | None] = None, gate: FromQuery[str | None] = None
) -> dict[str, Any]:
    """The gate's offline cache: public keys, sessions, refused and admitted tickets, and `revocation_seq`. With
    `since=N` (a `revocation_seq` or an earlier `upto`): only the revocations after N,
    {"since", "upto", "revoked", "restored"}; ask with it on every sync between full snapshots. A device syncs
    its own gate; the tablet page names it (`gate=T-N`)."""
    _, _, gate_info = await _scanner(request, gate)
    if since is not None:
        return await revocations(gate_info, whole_number(since, field="since", maximum=2**31 - 1))
    return await snapshot(gate_info)


@post(
    "/api/v1/checkin/journal",
    opt=DEVICE,
    status_code=200,
    tags=["check-in"],
    responses=problem_responses(400, 401, 415, 422),
)
async def upload_journal(request: Request, data: JSONBody[dict[str, Any]]) -> dict[str, int]:
    """Record the scans a device (or the tablet page, naming its `gate`) made offline, with their original
    times."""
    actor, device, gate_info = await _scanner(request, _optional_str(data, "gate"))
    entries = data.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInput('Send the journal as {"entries": [...]}.', field="entries")
    if len(entries) > MAX_JOURNAL_ENTRIES:
        raise InvalidInput("Send at most {max} journal entries at a time.", field="entries", max=MAX_JOURNAL_ENTRIES)
    if device is not None:
        actor = Actor(None, f"device:{device.name}", "gate")
    return await apply_journal(actor, gate_info, entries, device_id=device.id if device else None)


ROUTES = [redeem_scan, sync, upload_journal]
