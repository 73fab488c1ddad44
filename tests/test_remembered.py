"""Remembered markup (web/remembered.py): a pure macro renders once per distinct input and language, and a
changed input (a seat taken) is never answered with the old markup."""

from __future__ import annotations

from jinja2 import Environment

from web.i18n import current_language, gettext
from web.remembered import remembered

TEMPLATE = """
{%- macro plan(seats) -%}{{ count() }}{% for s in seats %}[{{ s.id }} {{ _("Sold") if s.status == "sold" else _("Free") }}]{% endfor %}{%- endmacro -%}
{{ remembered(plan, seats) }}
"""


def _page():
    renders = []
    env = Environment(autoescape=True)
    env.globals.update(_=gettext, remembered=remembered, count=lambda: renders.append(1) or "")
    template = env.from_string(TEMPLATE)
    return template, renders


def test_the_same_plan_renders_once_and_a_changed_seat_renders_again():
    template, renders = _page()
    seats = [{"id": 901, "status": "free"}, {"id": 902, "status": "free"}]
    token = current_language.set("en")
    try:
        first = template.render(seats=seats)
        assert template.render(seats=[dict(s) for s in seats]) == first
        assert len(renders) == 1
        seats[1]["status"] = "sold"  # taken meanwhile
        assert template.render(seats=seats) == "[901 Free][902 Sold]"
        assert len(renders) == 2
    finally:
        current_language.reset(token)


def test_each_language_has_its_own_markup():
    template, renders = _page()
    seats = [{"id": 903, "status": "sold"}]
    for language, text in (("en", "[903 Sold]"), ("zh_CN", "[903 已售]")):
        token = current_language.set(language)
        try:
            assert template.render(seats=seats) == text
        finally:
            current_language.reset(token)
    assert len(renders) == 2
