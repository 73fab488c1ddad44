"""The admission rule (issue 4, R1.2, R3.6): every status, the order of checks, and invariants over every
combination of inputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from db.gate.rules import (
    ATTENTION_UNNAMED,
    Direction,
    GateFacts,
    Presence,
    SessionFacts,
    Status,
    TicketFacts,
    attention_text,
    concession_name,
    decide,
    parse_sections,
)

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
OPEN = SessionFacts(NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1), reentry_allowed=False)
REENTRY = SessionFacts(OPEN.opens_at, OPEN.closes_at, reentry_allowed=True)
TICKET = TicketFacts(7, 3, "issued", "paid", "", "A1", session_venue=1)
GATE = GateFacts(gate_id=5, venue_id=1, admits_session=True, sections=frozenset())
UNKNOWN_SECTION = TicketFacts(
    7, 3, "issued", "paid", "", None, session_venue=None, section_known=False
)  # offline, sold after the sync
INSIDE = Presence(True, NOW - dt.timedelta(minutes=5), "AT-E1")
OUTSIDE = Presence(False, NOW - dt.timedelta(minutes=5), "AT-E1")


def _replace(obj, **changes):
    return dataclasses.replace(obj, **changes)


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({}, Status.OK, "welcome"),
        ({"code_valid": False}, Status.INVALID, "unreadable"),
        ({"ticket": None}, Status.INVALID, "unknown"),
        ({"ticket": _replace(TICKET, status="revoked")}, Status.REVOKED, "revoked"),
        ({"ticket": _replace(TICKET, order_status="refunded")}, Status.REVOKED, "revoked"),
        ({"ticket": _replace(TICKET, order_status="cancelled")}, Status.REVOKED, "revoked"),
        ({"ticket": _replace(TICKET, order_status="awaiting_payment")}, Status.UNPAID, "unpaid"),
        ({"ticket": _replace(TICKET, order_status="held")}, Status.UNPAID, "unpaid"),
        ({"gate": _replace(GATE, scanner_session=4)}, Status.WRONG_SESSION, "scanner_session"),
        ({"gate": _replace(GATE, scanner_session=3)}, Status.OK, "welcome"),
        ({"gate": _replace(GATE, admits_session=False)}, Status.WRONG_GATE, "other_gate"),
        ({"gate": _replace(GATE, admits_session=False, venue_id=2)}, Status.WRONG_SESSION, "other_venue"),
        ({"gate": _replace(GATE, sections=frozenset({"A2"}))}, Status.WRONG_GATE, "section"),
        ({"gate": _replace(GATE, sections=frozenset({"A1", "A2"}))}, Status.OK, "welcome"),
        (
            {"ticket": _replace(TICKET, section=None), "gate": _replace(GATE, sections=frozenset({"A2"}))},
            Status.OK,
            "welcome",
        ),
        ({"ticket": UNKNOWN_SECTION, "gate": _replace(GATE, sections=frozenset({"A2"}))}, Status.OK, "welcome"),
        (
            {"ticket": UNKNOWN_SECTION, "gate": _replace(GATE, sections=frozenset({"A2"})), "presence": INSIDE},
            Status.ALREADY_REDEEMED,
            "already_inside",
        ),
        ({"now": OPEN.opens_at - dt.timedelta(seconds=1)}, Status.INVALID_TIME, "too_early"),
        ({"now": OPEN.opens_at}, Status.OK, "welcome"),
        ({"now": OPEN.closes_at}, Status.OK, "welcome"),
        ({"now": OPEN.closes_at + dt.timedelta(seconds=1)}, Status.INVALID_TIME, "too_late"),
        ({"presence": INSIDE}, Status.ALREADY_REDEEMED, "already_inside"),
        ({"presence": OUTSIDE}, Status.ALREADY_REDEEMED, "no_reentry"),
        ({"presence": OUTSIDE, "session": REENTRY}, Status.OK, "welcome_back"),
        ({"presence": INSIDE, "session": REENTRY}, Status.ALREADY_REDEEMED, "already_inside"),
        ({"direction": Direction.OUT, "presence": INSIDE}, Status.OK, "goodbye"),
        ({"direction": Direction.OUT, "presence": OUTSIDE}, Status.INVALID, "not_inside"),
        ({"direction": Direction.OUT}, Status.INVALID, "not_inside"),
        # exits are not bound to the admission window: people leave after it closes
        (
            {"direction": Direction.OUT, "presence": INSIDE, "now": OPEN.closes_at + dt.timedelta(hours=3)},
            Status.OK,
            "goodbye",
        ),
        # order of checks: the first failing check decides
        (
            {"ticket": _replace(TICKET, status="revoked", order_status="held"), "presence": INSIDE},
            Status.REVOKED,
            "revoked",
        ),
        (
            {"ticket": _replace(TICKET, order_status="held"), "gate": _replace(GATE, admits_session=False)},
            Status.UNPAID,
            "unpaid",
        ),
        (
            {"gate": _replace(GATE, admits_session=False), "now": OPEN.opens_at - dt.timedelta(hours=1)},
            Status.WRONG_GATE,
            "other_gate",
        ),
        ({"now": OPEN.opens_at - dt.timedelta(hours=1), "presence": INSIDE}, Status.INVALID_TIME, "too_early"),
    ],
)
def test_each_status_and_the_order_of_checks(kwargs, status, reason):
    args = {
        "ticket": TICKET,
        "session": OPEN,
        "gate": GATE,
        "presence": None,
        "now": NOW,
        "direction": Direction.IN,
        "code_valid": True,
    }
    args.update(kwargs)
    decision = decide(
        args["ticket"],
        args["session"],
        args["gate"],
        args["presence"],
        args["now"],
        args["direction"],
        code_valid=args["code_valid"],
    )
    assert (decision.status, decision.reason_key) == (status, reason)
    assert decision.reason  # every reason formats with its parameters


def test_already_redeemed_names_the_first_entry():
    decision = decide(TICKET, OPEN, GATE, INSIDE, NOW)
    assert decision.params == {"gate": "AT-E1", "at": INSIDE.first_entry_at}


def test_concession_tickets_ask_for_the_id_only_when_admitted():
    student = _replace(TICKET, concession="student")
    admitted = decide(student, OPEN, GATE, None, NOW)
    assert (admitted.status, admitted.attention, admitted.attention_kind) == (Status.OK, True, "student")
    assert decide(student, OPEN, GATE, INSIDE, NOW).attention is False
    assert decide(TICKET, OPEN, GATE, None, NOW).attention is False


def test_an_entry_whose_section_is_not_known_asks_the_attendant_to_check_it():
    limited = _replace(GATE, sections=frozenset({"B", "A2"}))
    admitted = decide(UNKNOWN_SECTION, OPEN, limited, None, NOW)
    assert (admitted.status, admitted.attention, admitted.check_sections) == (Status.OK, True, ("A2", "B"))
    student = decide(_replace(UNKNOWN_SECTION, concession="student"), OPEN, limited, None, NOW)
    assert (student.attention, student.attention_kind, student.check_sections) == (True, "student", ("A2", "B"))
    assert decide(UNKNOWN_SECTION, OPEN, GATE, None, NOW).attention is False  # the gate admits every section
    assert (
        decide(TICKET, OPEN, _replace(GATE, sections=frozenset({"A1"})), None, NOW).check_sections == ()
    )  # known: checked
    assert decide(UNKNOWN_SECTION, OPEN, limited, INSIDE, NOW, Direction.OUT).attention is False  # exits need no check


def test_attention_text_names_the_kind_in_the_language_asked_for():
    def upper(message, **params):  # a stand-in catalog: the test sees which msgid and name were used
        return message.format(**params).upper()

    student = {"concession": "student", "concession_names": {"zh_CN": "学生", "en": "Student"}}
    assert (
        attention_text({"ticket": student}, "zh_CN", upper)
        == "学生 CONCESSION: CHECK THE ID BEFORE LETTING THE VISITOR IN."
    )
    assert concession_name(student, "en") == "Student" and concession_name(student, "fr") == "Student"
    unnamed = {"concession": "concession", "concession_names": {}}  # offline: the code only says "a concession"
    assert (
        attention_text({"ticket": unnamed}, "en", upper) == ATTENTION_UNNAMED.upper()
        and concession_name(unnamed, "en") == ""
    )
    assert concession_name(None, "en") == ""


def test_attention_text_puts_the_section_to_check_first():
    def english(message, **params):
        return message.format(**params)

    plain = {"concession": "", "concession_names": {}}
    section = "Section not known offline: check the section printed on the ticket. This gate admits only A2, B."
    assert attention_text({"ticket": plain, "check_sections": ["A2", "B"]}, "en", english) == section
    unnamed = {"concession": "concession", "concession_names": {}}
    both = attention_text({"ticket": unnamed, "check_sections": ["A2", "B"]}, "en", english)
    assert both == f"{section} {ATTENTION_UNNAMED}"


def test_every_combination_admits_only_a_valid_paid_ticket_at_its_gate_in_time_once():
    times = [OPEN.opens_at - dt.timedelta(minutes=1), NOW, OPEN.closes_at + dt.timedelta(minutes=1)]
    combos = itertools.product(
        [True, False],  # code valid
        [None, "issued", "revoked"],  # ticket (None: unknown)
        ["paid", "awaiting_payment", "refunded"],
        [None, 3, 4],  # scanner session
        [True, False],  # gate admits the session
        [frozenset(), frozenset({"A1"}), frozenset({"B"})],
        times,
        [None, INSIDE, OUTSIDE],
        [OPEN, REENTRY],
        list(Direction),
        ["", "military"],
        [True, False],  # the section is known (False: offline, sold after the sync)
    )
    seen = set()
    for (
        valid,
        t_status,
        o_status,
        scanner,
        admits,
        sections,
        now,
        presence,
        session,
        direction,
        concession,
        known,
    ) in combos:
        t = (
            None
            if t_status is None
            else _replace(
                TICKET,
                status=t_status,
                order_status=o_status,
                concession=concession,
                section="A1" if known else None,
                section_known=known,
            )
        )
        gate = _replace(GATE, admits_session=admits, sections=sections, scanner_session=scanner)
        decision = decide(t, session, gate, presence, now, direction, code_valid=valid)
        seen.add(decision.status)
        in_time = direction is Direction.OUT or now == NOW
        present_ok = (
            (presence is not None and presence.inside)
            if direction is Direction.OUT
            else (presence is None or (not presence.inside and session.reentry_allowed))
        )
        should_admit = (
            valid
            and t is not None
            and t_status == "issued"
            and o_status == "paid"
            and scanner in (None, 3)
            and admits
            and (sections != frozenset({"B"}) or not known)
            and in_time
            and present_ok
        )
        assert decision.admits == should_admit, (valid, t, gate, now, presence, session, direction)
        check_section = should_admit and direction is Direction.IN and bool(sections) and not known
        assert decision.attention == (
            should_admit and direction is Direction.IN and (concession != "" or check_section)
        )
        assert decision.check_sections == (tuple(sorted(sections)) if check_section else ())
    assert seen == set(Status)


def test_sections_are_a_comma_separated_list():
    assert parse_sections(" A1, A2 ,,") == frozenset({"A1", "A2"})
    assert parse_sections("") == frozenset()
