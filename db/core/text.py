"""Text that a person typed: one-line fields (names, cities, addresses) hold no control characters, and every
free-text field has a length limit, refused with a message that says it (issue 15).

NUL, ESC, CR/LF and the other C0/C1 controls (and the Unicode line and paragraph separators) end up in
e-mail headers and bodies, CSV exports, logs and terminals, where they split lines or inject escapes; a
name never needs them (issue 9, defect 7). Each check raises InvalidInput naming the field."""

from __future__ import annotations

import re

from db.core.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: str, field: str) -> str:
    """`value` unchanged when it holds no control character; InvalidInput otherwise."""
    if _CONTROL.search(value):
        raise InvalidInput("This field must be one line of text, without control characters.", field=field)
    return value


NOTE_LIMIT = 200  # a note or reason typed beside an action
TEXT_LIMIT = 2000  # a description or notice of several lines


def bounded(value: str, field: str, maximum: int) -> str:
    """`value` when it has at most `maximum` characters; InvalidInput saying the limit otherwise."""
    if len(value) > maximum:
        raise InvalidInput(
            "At most {max} characters here ({length} entered).", field=field, max=maximum, length=len(value)
        )
    return value
