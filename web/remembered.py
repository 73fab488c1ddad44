"""Markup remembered by its inputs: a big, pure template macro (the seat plan: hundreds of seats, about
20 ms to render) renders once per distinct input and language, not once per request.

An on-sale rush is hundreds of customers reloading the same seat plan; rendered every time, it kept a
worker's event loop busy for whole turns, and a buyer's write transaction waited a turn at each of its
statements (SQLite holds its single write lock meanwhile). The key is the macro, the language and the full
`repr` of the arguments (every seat's id, label and status), so a changed seat is a new key: nothing stale
is ever shown. The least recently used entries go first."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from markupsafe import Markup

from web.i18n import current_language

ENTRIES = 64

_remembered: OrderedDict[tuple[Any, str, str], Markup] = OrderedDict()


def remembered(macro: Callable[..., Markup], *args: Any, **kwargs: Any) -> Markup:
    # A Jinja macro is a new object at every render; the code it runs is that of its compiled template (a
    # template edited and reloaded is new code, so a new key).
    code = getattr(getattr(macro, "_func", None), "__code__", macro)
    key = (code, current_language.get(), repr((args, sorted(kwargs.items()))))
    markup = _remembered.get(key)
    if markup is None:
        markup = Markup(macro(*args, **kwargs))
        _remembered[key] = markup
        if len(_remembered) > ENTRIES:
            _remembered.popitem(last=False)
    else:
        _remembered.move_to_end(key)
    return markup
