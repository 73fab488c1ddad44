"""The seats of a plan as markup (the rest of the plan is templates/catalog/_seat_plan.html): a stadium's
section is 1,250 seats, and drawn by the template, with an escape and a lookup per attribute, they took about
100 ms; here each seat is one formatted string with its label escaped once (issue 15). Seats are dicts or
objects with the fields of web.remembered.SEAT_FIELDS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from web.i18n import seat_label
from web.remembered import seat_fields

OBSTRUCTED = ' data-obstructed="1"'


def seat_cells(
    seats: Sequence[Any],
    selectable: bool,
    field: str,
    names: Mapping[str, str],
    states: Mapping[str, str],
    obstructed: str,
) -> Markup:
    """One element per seat, placed on the grid from the smallest x and y given: a checkbox in a label when
    `selectable` (held and sold ones disabled), else a button; its title is the line a tap shows. `names`: each
    class's name, in the order of their colours; `states`: each status's word; `obstructed`: the words for an
    obstructed view."""
    rows = [seat_fields(seat) for seat in seats]
    x0 = min((r[7] for r in rows), default=0) - 1
    y0 = min((r[8] for r in rows), default=0) - 1
    field = escape(field)
    colours = {seat_class: i % 8 for i, seat_class in enumerate(names)}
    out = []
    for seat_id, label, section, row, number, seat_class, _name, x, y, status, blocked in rows:
        label = escape(label or seat_label(section, row, number))
        status = status or "free"
        state = states[status] + (" · " + obstructed if blocked else "")
        attrs = (
            f' class="seat seat-c{colours[seat_class]} {status}{" obstructed" if blocked else ""}"'
            f' style="grid-column:{x - x0};grid-row:{y - y0}"'
            f' title="{label} · {escape(names[seat_class])} · {escape(state)}" data-label="{label}"'
            f' data-seat-id="{seat_id}"{OBSTRUCTED if blocked else ""}'
        )
        if selectable:
            disabled = "" if status == "free" else " disabled"
            out.append(
                f'<label{attrs}><input type="checkbox" name="{field}" value="{seat_id}" aria-label="{label}"'
                f"{disabled}><span>{number}</span></label>"
            )
        else:
            out.append(f'<button type="button"{attrs}>{number}</button>')
    return Markup("".join(out))
