"""The seat-plan macro's contract (templates/catalog/_seat_plan.html), relied on by the box office and
the shop for seat picking: free seats are checkboxes named by `field`, held and sold ones disabled,
positions from x/y, one colour per class, a legend, labels made from section/row/number when missing."""

from __future__ import annotations

import re

from web.app import create_app

SEATS = [
    {"id": 11, "section": "池座", "row_label": "1", "number": 1, "seat_class": "VIP", "x": 0, "y": 0, "status": "free"},
    {"id": 12, "section": "池座", "row_label": "1", "number": 2, "seat_class": "VIP", "x": 1, "y": 0, "status": "held"},
    {"id": 13, "section": "池座", "row_label": "2", "number": 1, "seat_class": "A", "x": 0, "y": 2, "status": "sold"},
    {"id": 14, "label": "包厢 3", "seat_class": "A", "number": 3, "x": 5, "y": 2, "status": "free"},
]


def render(**kwargs) -> str:
    env = create_app().template_engine.engine
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    template = env.from_string(
        '{% from "catalog/_seat_plan.html" import seat_plan %}{{ seat_plan(seats'
        + (", " + args if args else "")
        + ") }}"
    )
    return template.render(seats=SEATS)


def test_selectable_plan_offers_free_seats_only():
    html = render(selectable=True, field="seat_ids")
    boxes = re.findall(r'<input type="checkbox" name="seat_ids" value="(\d+)"[^>]*?(disabled)?>', html)
    assert boxes == [("11", ""), ("12", "disabled"), ("13", "disabled"), ("14", "")]
    assert 'style="grid-column:6;grid-row:3"' in html  # x=5, y=2
    assert 'data-label="池座 1排2座"' in html and 'data-label="包厢 3"' in html
    assert re.search(r'class="seat seat-c0 free"[^>]*data-seat-id="11"', html)
    assert re.search(r'class="seat seat-c1 sold"[^>]*data-seat-id="13"', html)
    legend = html[html.index('data-testid="seat-legend"') :]
    assert "VIP <small>(2)</small>" in legend and "A <small>(2)</small>" in legend


def test_read_only_plan_has_no_form_fields():
    html = render()
    assert "<input" not in html
    assert len(re.findall(r'<button type="button" class="seat ', html)) == 4


def test_legend_and_seat_line_use_the_price_names_not_the_class_codes():
    named = [{**seat, "class_name": "甲等" if seat["seat_class"] == "A" else "贵宾"} for seat in SEATS]
    env = create_app().template_engine.engine
    html = env.from_string('{% from "catalog/_seat_plan.html" import seat_plan %}{{ seat_plan(seats) }}').render(
        seats=named
    )
    legend = html[html.index('data-testid="seat-legend"') :]
    assert "甲等 <small>(2)</small>" in legend and "贵宾 <small>(2)</small>" in legend
    assert "VIP <small>" not in legend and " · 甲等 · " in html and " · A · " not in html
