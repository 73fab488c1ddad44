"""The seat plan's remembered markup (web/remembered.py): a plan renders once per distinct content and
language, and a changed seat (taken meanwhile) is never answered with the old markup, whether seats are
dicts or objects."""

from __future__ import annotations

from types import SimpleNamespace

from jinja2 import Environment

from web.i18n import current_language, gettext
from web.remembered import remembered_plan

TEMPLATE = (
    "\n{%- macro plan(seats) -%}{{ count() }}{% for s in seats %}"
    '[{{ s.id }} {{ _("Sold") if s.status == "sold" else _("Free") }}]{% endfor %}{%- endmacro -%}\n'
    "{{ remembered_plan(plan, seats) }}\n"
)


def _page():
    renders = []
    env = Environment(autoescape=True)
    env.globals.update(_=gettext, remembered_plan=remembered_plan, count=lambda: renders.append(1) or "")
    return env.from_string(TEMPLATE), renders


def _in(language: str, render):
    token = current_language.set(language)
    try:
        return render()
    finally:
        current_language.reset(token)


def test_the_same_plan_renders_once_and_a_changed_seat_renders_again():
    template, renders = _page()
    seats = [{"id": 901, "status": "free"}, {"id": 902, "status": "free"}]
    first = _in("en", lambda: template.render(seats=seats))
    assert _in("en", lambda: template.render(seats=[dict(s) for s in seats])) == first
    assert len(renders) == 1
    seats[1]["status"] = "sold"  # taken meanwhile
    assert _in("en", lambda: template.render(seats=seats)) == "[901 Free][902 Sold]"
    assert len(renders) == 2


def test_seats_as_objects_are_keyed_by_what_they_show():
    template, renders = _page()
    seat = SimpleNamespace(id=904, status="free")
    assert _in("en", lambda: template.render(seats=[seat])) == "[904 Free]"
    seat.status = "sold"  # the same object, changed
    assert _in("en", lambda: template.render(seats=[seat])) == "[904 Sold]"
    assert len(renders) == 2


def test_each_language_and_each_environment_has_its_own_markup():
    template, renders = _page()
    seats = [{"id": 903, "status": "sold"}]
    assert _in("en", lambda: template.render(seats=seats)) == "[903 Sold]"
    assert _in("zh_CN", lambda: template.render(seats=seats)) == "[903 已售]"
    other, other_renders = _page()  # the same template source in another environment (another app)
    assert _in("en", lambda: other.render(seats=seats)) == "[903 Sold]"
    assert (len(renders), len(other_renders)) == (2, 1)
