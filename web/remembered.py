"""The seat plan's markup, remembered by what it shows: the macro (hundreds of seats, about 20 ms to
render) renders once per distinct plan and language, not once per request.

An on-sale rush is hundreds of customers reloading the same seat plan; rendered every time, it kept a
worker's event loop busy for whole turns, and a buyer's write transaction waited a turn at each of its
statements (SQLite holds its single write lock meanwhile). The key is the template's environment and
compiled code, the language, the other arguments and every field the macro reads of every seat (id,
label, position, class, status), so a seat that changed is a new key: nothing stale is ever shown. Seats
are dicts or objects with those attributes. The least recently used plans go first once the kept markup
passes BUDGET characters; a plan bigger than a quarter of it is not kept."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from web.i18n import current_language

SEAT_FIELDS = (
    "id",
    "label",
    "section",
    "row_label",
    "number",
    "seat_class",
    "class_name",
    "x",
    "y",
    "status",
    "obstructed",
)
BUDGET = 8_000_000

_kept: OrderedDict[tuple, Markup] = OrderedDict()
_size = 0
_lock = threading.Lock()


def seat_fields(seat: Any) -> tuple:
    if isinstance(seat, Mapping):
        return tuple(seat.get(name) for name in SEAT_FIELDS)
    return tuple(getattr(seat, name, None) for name in SEAT_FIELDS)


def remembered_plan(macro: Callable[..., Markup], seats: list, *args: Any) -> Markup:
    global _size
    # A Jinja macro is a new object at every render; its environment and compiled code are not (a template
    # edited and reloaded is new code, so a new key).
    code = getattr(getattr(macro, "_func", None), "__code__", macro)
    key = (
        getattr(macro, "_environment", None),
        code,
        current_language.get(),
        args,
        tuple(seat_fields(seat) for seat in seats),
    )
    with _lock:
        markup = _kept.get(key)
        if markup is not None:
            _kept.move_to_end(key)
            return markup
    markup = Markup(macro(seats, *args))
    if len(markup) <= BUDGET // 4:
        with _lock:
            if key not in _kept:
                _kept[key] = markup
                _size += len(markup)
                while _size > BUDGET:
                    _size -= len(_kept.popitem(last=False)[1])
    return markup
