"""Reading forms and answering them, once for every area: field values (field_text, listed), the ONE parser for
whole numbers from forms, query strings, paths and JSON bodies and the bound on every id a path carries
(issue 9), a refused operation as a form error on the page (failure), and the redirect after a successful POST
that works for htmx (HX-Redirect) and for plain posts and boosted requests (303) (go).

Every number is checked before any work is done with it: ASCII digits only (`"²".isdigit()` is True but
`int("²")` fails), at most 12 digits (no 10^30-digit `int()`), and within the caller's bounds (a quantity's
bound is a domain limit from db/; an id fits the 32-bit id columns of PostgreSQL, whose SERIAL is an
`integer`, and SQLite's 64-bit one). Out of bounds is an InvalidInput (422) that names the field, on a page
as a form error and in the API as a problem body."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.background_tasks import BackgroundTask
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import BodyKwarg, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Response

from db.catalog.seatmap import SeatMapError
from db.core.errors import DomainError, InvalidInput, InvalidInputs
from db.core.text import TEXT_LIMIT, bounded
from web.errors import explain
from web.i18n import gettext

Form = URLEncodedBody[dict[str, Any]]
MAX_ID = 2**31 - 1  # the largest id a row can have (PostgreSQL `serial`/`integer`)
MAX_DIGITS = 12
_WHOLE = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_NEGATIVE = re.compile(rf"[-\u2212\uff0d][0-9]{{1,{MAX_DIGITS}}}")  # -3, −3 (minus sign), －3 (full width)

# JSON body fields: the same bounds, checked by msgspec while decoding (and documented in the OpenAPI schema).
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# Whole numbers in a query string: Litestar checks the bounds (400 with the reason) and documents them.
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
QueryPage = Annotated[int, QueryParameter(ge=1, le=1_000_000)]


def field_text(data: dict[str, Any], name: str, maximum: int | None = TEXT_LIMIT) -> str:
    """A single-valued form field, stripped; '' when absent or repeated. Longer than `maximum` characters is
    refused with a message that says the limit (every free-text field has one, issue 15); None for the few
    fields whose lines are checked one by one (a pasted seat map)."""
    value = data.get(name, "")
    text = value.strip() if isinstance(value, str) else ""
    return bounded(text, name, maximum) if maximum is not None else text


def listed(data: dict[str, Any], name: str) -> list[str]:
    """A form field that may repeat (checkboxes): always a list of its non-empty values, stripped."""
    value = data.get(name)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def whole_number(value: Any, *, field: str, maximum: int, minimum: int = 0) -> int:
    """`value` (text from a form, query string or path, or an int from JSON) as an int from `minimum` to
    `maximum`; InvalidInput otherwise, before anything is built from it."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        if _NEGATIVE.fullmatch(text):  # "-3": say what the number must be, not that it is no number (issue 15)
            raise InvalidInput("The number must be at least {min}.", field=field, min=minimum)
        if not _WHOLE.fullmatch(text):
            shown = text if len(text) <= 20 else f"{text[:20]}…"
            raise InvalidInput("{value} is not a whole number.", field=field, value=shown)
        number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidInput("Enter a whole number from {min} to {max}.", field=field, min=minimum, max=maximum)
    return number


def form_number(data: dict[str, Any], name: str, default: int = 0, *, maximum: int = MAX_ID, minimum: int = 0) -> int:
    """A whole-number form field; `default` when it is left empty. Without a `maximum` of its own a number
    is bounded by what an integer column holds."""
    value = field_text(data, name)
    if not value:
        return default
    return whole_number(value, field=name, maximum=maximum, minimum=minimum)


def ids(values: list[Any], field: str) -> list[int]:
    """Ids picked in a form or query string (seats, gates): each one a bounded whole number."""
    return [whole_number(v, field=field, minimum=1, maximum=MAX_ID) for v in values if str(v).strip()]


def id_suffixes(data: dict[str, Any], prefix: str, minimum: int = 1) -> dict[int, str]:
    """Form fields named `<prefix><number>` (qty_12, pc_name_0): {number: field name}, each number bounded;
    one entry per field sent (never a range up to a number someone typed)."""
    return {
        whole_number(k[len(prefix) :], field=k, minimum=minimum, maximum=MAX_ID): k
        for k in data
        if k.startswith(prefix)
    }


def _wants_json(request: Request) -> bool:
    field = request.route_handler.parsed_data_field
    if field is None:
        return False
    kwarg = field.kwarg_definition
    return not isinstance(kwarg, BodyKwarg) or kwarg.media_type == RequestEncodingType.JSON


def _has_body(request: Request) -> bool:
    return request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers


async def checked_request(request: Request) -> None:
    """App-wide before_request hook, before any parameter or body is read:
    - a path id outside the id range names nothing (404), instead of an integer overflow in the database
      (SQLite refuses 2^63 and above, PostgreSQL 2^31);
    - a handler that reads a JSON body gets one sent as JSON (application/json or +json), else 415:
      a JSON text sent as text/plain or a form is refused, not guessed."""
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFoundException("No such item: the id is out of range.")
    if _wants_json(request) and _has_body(request):
        media_type = request.content_type[0]
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HTTPException(
                status_code=415, detail="Send the body as JSON with the header Content-Type: application/json."
            )


def failure(exc: DomainError) -> dict[str, Any]:
    """Template context for a refused form: the message, the fields to mark (`error_field` the first), and the
    list below it: every refusal of the form at once (InvalidInputs), or every bad line of a seat map."""
    if isinstance(exc, InvalidInputs):
        return {
            "error": gettext("Correct these {n} fields:", n=len(exc.errors)),
            "error_field": exc.field,
            "error_fields": [e.field for e in exc.errors],
            "problems": [explain(e) for e in exc.errors],
        }
    problems = [
        gettext("Line {line}: {problem}", line=p.line, problem=gettext(p.message, **p.params))
        for p in (exc.problems if isinstance(exc, SeatMapError) else [])
    ]
    return {"error": explain(exc), "error_field": exc.field, "error_fields": [exc.field], "problems": problems}


def is_htmx(request: Request) -> bool:
    """An htmx request that swaps a fragment (a boosted link or form loads a whole page, like the browser)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


def go(request: Request, url: str, background: BackgroundTask | None = None) -> Response:
    """After a successful POST the browser opens `url`: HX-Redirect for htmx, a 303 redirect otherwise; then
    `background` runs."""
    if is_htmx(request):
        return Response(content=None, headers={"HX-Redirect": url}, background=background)
    return Redirect(url, status_code=303, background=background)
