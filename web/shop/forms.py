"""Reading the shop's forms, and the answers every shop page shares (redirects, form errors, labels)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.response import Redirect

from db.core.errors import DomainError
from db.sales.channels.shop import ConcessionChoice
from db.sales.ordering.buyer import Buyer
from db.sales.ordering.orders import MAX_TICKETS_PER_ORDER
from web.errors import explain
from web.forms import field_text, form_number, id_suffixes, ids

# Order statuses and ID types as customers read them (English msgids; zh_CN in shop.po).
STATUS_LABELS = {
    "held": "Tickets held, waiting for payment",
    "awaiting_audit": "Waiting for our staff to check the order",
    "awaiting_payment": "Checked, waiting for payment",
    "paid": "Paid, e-tickets issued",
    "rejected": "Not accepted by our staff",
    "cancelled": "Cancelled",
    "expired": "Hold expired, tickets released",
    "refunded": "Payment refunded",
}
ID_TYPE_LABELS = {
    "id_card": "Resident ID card",
    "student_card": "Student card",
    "military_card": "Military ID",
    "disability_card": "Disability certificate",
    "senior_card": "Senior citizen card",
    "passport": "Passport",
    "other": "Other ID",
}


def text(data: dict[str, Any], name: str) -> str:
    return field_text(data, name)


def listed(value: Any) -> list[str]:
    """A form field that may repeat (checkboxes): always a list."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def count(data: dict[str, Any], name: str) -> int:
    return form_number(data, name, maximum=MAX_TICKETS_PER_ORDER)


def seat_ids(data: dict[str, Any]) -> list[int]:
    return ids(listed(data.get("seat_id")), "seat_id")


def quantities(data: dict[str, Any]) -> dict[int, int]:
    return {pc: count(data, name) for pc, name in id_suffixes(data, "qty_").items()}


def buyer(data: dict[str, Any]) -> Buyer:
    return Buyer(text(data, "name"), text(data, "phone"), text(data, "email"))


def concession(data: dict[str, Any]) -> ConcessionChoice | None:
    kind = text(data, "concession")
    if not kind:
        return None
    return ConcessionChoice(kind, count(data, "concession_count"), text(data, "id_type"), text(data, "id_number"))


def failure(exc: DomainError) -> dict[str, Any]:
    return {"error": explain(exc), "error_field": exc.field}


def go(request: Request, url: str, background: BackgroundTask | None = None) -> Response:
    """Open `url`: an HX-Redirect for an HTMX form, a 303 redirect for a plain one (then run `background`)."""
    if request.headers.get("hx-request"):
        return Response(content="", status_code=200, headers={"HX-Redirect": url}, background=background)
    return Redirect(url, status_code=303, background=background)
