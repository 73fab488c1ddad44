"""Admission at the gates: scans, entries and exits, offline journals (issue 4, R1.2, R9.2).

API overview (everything a gate client needs; all functions are async unless marked pure)
---------------------------------------------------------------------------------------

db.gate.redeem.redeem(code, gate, *, nonce=None, direction="in", session_id=None, device_id=None,
                      attendant=None, at=None) -> dict
    One scan at one gate, checked and recorded (a Scan row, accepted or rejected). `code` is the
    scanned text or the ticket's typed short number (11 digits, db/sales/tickets/short_numbers.py; typing is
    limited to GATE_TYPED_PER_MINUTE per device, TooManyRequests beyond), `gate` a gate code ("MC-1") or a
    devices.GateInfo, `nonce` makes a retried scan
    idempotent (the same nonce at the same gate, for the same ticket from the same device or attendant,
    returns the first answer with "replayed": True and records nothing twice; the nonce with another code
    or device raises Conflict, admits nobody and is recorded as an invalid scan "nonce_reused"), `direction`
    "in" or "out", `session_id` the session the scanner is set to
    (None: any session the gate admits), `device_id` the GateDevice, `attendant` an Actor (staff),
    `at` the scan time (default now; journal uploads pass the original time).
    Raises InvalidInput (bad code type/direction/nonce), NotFound (unknown gate) or Conflict (a reused
    nonce, see above) only; every verdict,
    including rejections, is returned:
      {"status":        "ok" | "already_redeemed" | "invalid" | "revoked" | "unpaid" | "wrong_gate"
                        | "wrong_session" | "invalid_time",
       "reason":        English sentence for the attendant (translate with reason_code/reason_params),
       "reason_code":   key of db.gate.rules.REASONS (unreadable, unknown, mistyped, revoked, unpaid,
                        scanner_session, other_venue, other_gate, section, too_early, too_late,
                        already_inside, no_reentry, not_inside, welcome, welcome_back, goodbye),
       "reason_params": {name: str} for the msgid (times already in Asia/Shanghai "YYYY-MM-DD HH:MM"),
       "ticket":        {"id", "short_code" (the typeable number), "session_id", "session" (event name +
                        local start), "seat" ({"section",
                        "row", "number"}, or None for general admission; clients word it in their language
                        with db.core.i18n.seat_label(**seat, language=...): 池座 1排5座 / 池座 row 1, seat 5),
                        "class" (price class name), "concession" ('' or the kind's code),
                        "concession_names" ({"zh_CN", "en"} display names of the kind, joined in by the
                        same SELECT; {} for none)} or None when the code is invalid/unknown,
       "attention":     True for an accepted concession ticket: check the ID (R3.6); offline also for an
                        entry whose section the camera client could not check (see check_sections),
       "check_sections":[the gate's sections] for an entry admitted offline at a gate limited to some
                        sections whose ticket was sold after the last sync: the attendant checks the
                        section printed on the ticket; [] otherwise (always [] online; not in the JSON API),
       "attention_text":"Student concession: check the ID before letting the visitor in." or "" (English;
                        the section note first when check_sections is set; clients show
                        rules.attention_text(verdict, language, gettext)),
       "first_entry":   {"at": ISO UTC, "gate": gate code} with already_redeemed, else None,
       "offline":       False here (True in the camera client's offline verdicts),
       ["replayed":     True when answered from a retried nonce]}
    Entry `ok`: the ticket's first entry, or a re-entry after an exit when the session allows it.
    Exit `ok`: the ticket was inside (it is now outside); an exit of a ticket not inside is `invalid`
    (reason not_inside). Exactly one `ok` per ticket and entry under any concurrency (conditional
    INSERT ... ON CONFLICT DO NOTHING / UPDATE ... WHERE inside = ... RETURNING on gate_admission).

db.gate.rules (pure): decide(ticket, session, gate, presence, now, direction, code_valid=True) -> Decision
    The rule itself, used online, offline and for journal uploads. Inputs are the dataclasses
    TicketFacts, SessionFacts, GateFacts, Presence; Decision(status: Status, reason_key, params,
    attention, attention_kind, check_sections). Status and Direction are StrEnums with the values above.
    Order of checks: invalid -> revoked -> unpaid -> wrong_session (scanner set to another session)
    -> wrong_gate/wrong_session (gate does not serve the ticket's session: same venue = wrong_gate,
    other venue = wrong_session; SessionGate.sections excludes the seat's section = wrong_gate)
    -> invalid_time (entries only: before admission_opens_at / after admission_closes_at)
    -> already_redeemed (inside, or outside without re-entry) -> ok. An entry `ok` of a ticket whose
    section is not known (TicketFacts.section_known False: offline, sold after the last sync) at a gate
    limited to some sections carries attention with check_sections = the gate's sections.

db.gate.devices
    register_device(actor, gate_code, name, token=None) -> (device_id, token)   (audited)
    deactivate_device(actor, device_id)                                          (audited)
    device_for_token(token) -> DeviceInfo(id, name, gate=GateInfo(id, code, venue_id)) | None
        (cached DEVICE_CACHE_SECONDS; updates GateDevice.last_seen on a cache miss)
    gate_by_code(code) -> GateInfo | None (cached), forget_cached()

db.gate.sync (offline scanners, R9.2)
    snapshot(gate: GateInfo, now=None) -> {"gate", "venue_id", "synced_at", "public_keys" {key id: base64
        raw Ed25519 PUBLIC key}, "sessions" [{"id", "opens_at", "closes_at", "reentry_allowed",
        "sections", ["ticket_sections"]}] (the gate's sessions whose admission closed less than a day ago),
        "revoked" [ticket ids: revoked ticket or refunded/cancelled/expired/rejected order], "unpaid" [ticket
        ids], "admitted" [{"ticket", "inside", "first_entry_at", "first_gate"}]}. Served to devices by
        GET /api/v1/checkin/sync; the camera client saves it to a file.
        "ticket_sections" is there only for a seated session this gate is limited to some sections of
        (SessionGate.sections not empty): {section: [[first ticket id, last ticket id], ...]}, inclusive
        runs of consecutive ids covering every issued ticket of the session ("" for its general-admission
        tickets), so an offline reader checks the section like online; a ticket in no run was sold after
        the sync. Three queries in all, whatever the number of tickets.
    apply_journal(actor, gate, entries, *, device_id=None) -> {"recorded", "already_recorded", "conflicts"}
        entries: [{"nonce", "code", "direction", "at" (ISO with zone: the original time), "status" (what
        the scanner showed), "reason_code"}]. Records each as a Scan (offline=True) at its original time;
        an offline `ok` writes presence; if the ticket was admitted meanwhile (another offline gate, or
        online) it stays admitted and a GateConflict row is written. An `ok` for a code that is no ticket
        of ours (forged, unsigned, unknown) is recorded as invalid (result.device_status "ok"), never as an
        entry. Idempotent by nonce. Audited.
        Also POST /api/v1/checkin/journal for devices.

db.gate.presence: the conditional statements (first entry, re-entry, exit, scan insert) and
    connection() (one asyncpg connection per scan on PostgreSQL, Piccolo raw on SQLite).

Camera client (scanner/): `python -m scanner --gate GATE --source SOURCE [--headless] ...` calls
redeem() directly (DATABASE_URL), falls back to scanner.offline.judge() (decide() over the snapshot,
public keys only) when the database does not answer within --offline-timeout, journals offline scans
and uploads them with apply_journal() when it is back.

Demo devices (db/gate/demo.py): token `demo-gate-key` = gate MC-1 (明城墙 中华门入口),
`demo-gate-key-at-e1` = gate AT-E1 (奥体中心 东1检票口).

Tables (db.gate.tables): GateDevice(gate, name, token_sha256, active, created_at, last_seen);
Admission(ticket unique, session, inside, entries, exits, first_entry_at, first_gate, last_scan_at,
last_gate) = who is inside now; Scan(at, recorded_at, gate, device, attendant, session, ticket,
direction, status, reason (=reason_code), offline, nonce, result) = every scan; GateConflict(ticket,
session, gate, scan, at, first_gate, first_entry_at, detected_at, resolved) = double admissions found
when offline journals are uploaded. No customer data in any of them. The Scan rows are the audit trail
of admissions; device changes and journal uploads also write AuditEntry rows.
"""
