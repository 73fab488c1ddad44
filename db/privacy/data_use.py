"""Using customer data outside routine work (R6.3): a data-use request names a known export and a purpose;
the supervisor approves it for a limited time (or rejects it); each download under it is logged."""

from __future__ import annotations

import csv
import datetime as dt
import io

from db.audit.record import record
from db.core.actor import Actor
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.transaction import write_transaction
from db.privacy.reveals import clean_purpose
from db.privacy.tables import DataUseDownload, DataUseRequest
from db.sales.status import PAID
from db.sales.tables import Order
from db.staff.permissions import Permission, role_allows

# The exports a request can name: code -> label (English msgid). Each is one session's buyers.
EXPORTS = {
    "session_buyers": "Buyers of a session: name, phone, e-mail, order (CSV)",
    "mailing_list": "Mailing list of a session: name and e-mail of buyers who gave one (CSV)",
}
MAX_DAYS = 30


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _require(actor: Actor, permission: Permission, message: str) -> None:
    if not role_allows(actor.role, permission):
        raise PermissionDenied(message)


async def request_use(actor: Actor, export: str, session_id: int | None, purpose: str) -> int:
    _require(actor, Permission.DATA_USE_REQUEST, "Your role may not request customer data.")
    if export not in EXPORTS:
        raise InvalidInput("There is no such export. Choose one from the list.", field="export")
    purpose = clean_purpose(purpose)
    if session_id is None:
        raise InvalidInput("Choose the session whose buyers you need.", field="session_id")
    async with write_transaction(DataUseRequest._meta.db):
        rows = await DataUseRequest.insert(
            DataUseRequest(
                export=export,
                session_id=session_id,
                purpose=purpose,
                requested_by_id=actor.user_id,
                requested_by=actor.name,
                requested_at=_now(),
                status="pending",
            )
        ).returning(DataUseRequest.id)
        request_id = rows[0]["id"]
        await record(actor, "datause.request", "data_use", request_id, summary=f"{export}: {purpose}")
    return request_id


async def decide(actor: Actor, request_id: int, approve: bool, days: int = 7, note: str = "") -> None:
    _require(actor, Permission.PRIVACY_OVERSEE, "Only the supervisor approves data-use requests.")
    if approve and not 1 <= days <= MAX_DAYS:
        raise InvalidInput("Approve for 1 to 30 days.", field="days")
    now = _now()
    async with write_transaction(DataUseRequest._meta.db):
        changed = (
            await DataUseRequest.update(
                {
                    DataUseRequest.status: "approved" if approve else "rejected",
                    DataUseRequest.decided_by: actor.name,
                    DataUseRequest.decided_at: now,
                    DataUseRequest.decision_note: note.strip()[:500],
                    DataUseRequest.valid_until: now + dt.timedelta(days=days) if approve else None,
                }
            )
            .where((DataUseRequest.id == request_id) & (DataUseRequest.status == "pending"))
            .returning(DataUseRequest.id)
        )
        if not changed:
            raise Conflict("This request has already been decided.")
        await record(
            actor,
            "datause.approve" if approve else "datause.reject",
            "data_use",
            request_id,
            summary=f"{days} days" if approve else note.strip()[:200],
        )


async def requests(actor: Actor) -> list[dict]:
    """Every request for the supervisor; one's own for everyone else; newest first."""
    query = DataUseRequest.select().order_by(DataUseRequest.id, ascending=False).limit(200)
    if not role_allows(actor.role, Permission.PRIVACY_OVERSEE):
        query = query.where(DataUseRequest.requested_by_id == actor.user_id)
    rows = await query
    now = _now()
    for row in rows:
        row["usable"] = row["status"] == "approved" and row["valid_until"] is not None and row["valid_until"] > now
        row["expired"] = row["status"] == "approved" and not row["usable"]
        row["downloads"] = await DataUseDownload.count().where(DataUseDownload.request == row["id"])
    return rows


async def download(actor: Actor, request_id: int) -> tuple[str, str]:
    """(file name, CSV text) of the export an approved, unexpired request of `actor` names; logged."""
    row = await DataUseRequest.select().where(DataUseRequest.id == request_id).first()
    if row is None:
        raise NotFound("No such data-use request.")
    if row["requested_by_id"] != actor.user_id:
        raise PermissionDenied("Only the staff member who asked may download under this request.")
    if row["status"] != "approved":
        raise Conflict("This request has not been approved.")
    if row["valid_until"] is None or row["valid_until"] <= _now():
        raise Conflict("This request's approval has expired; ask again.")
    orders = (
        await Order.select(Order.code, Order.buyer_name, Order.buyer_phone, Order.buyer_email)
        .where((Order.session == row["session_id"]) & (Order.status == PAID))
        .order_by(Order.id)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    if row["export"] == "mailing_list":
        writer.writerow(["name", "email"])
        picked = [o for o in orders if o["buyer_email"]]
        writer.writerows([o["buyer_name"], o["buyer_email"]] for o in picked)
    else:
        writer.writerow(["order", "name", "phone", "email"])
        picked = orders
        writer.writerows([o["code"], o["buyer_name"], o["buyer_phone"], o["buyer_email"]] for o in picked)
    async with write_transaction(DataUseRequest._meta.db):
        await DataUseDownload.insert(
            DataUseDownload(
                request=request_id,
                at=_now(),
                staff_id=actor.user_id,
                staff_name=actor.name,
                rows=len(picked),
                format="csv",
            )
        ).run()
        await record(actor, "datause.download", "data_use", request_id, summary=f"{len(picked)} rows")
    return f"{row['export']}-{row['session_id']}-{request_id}.csv", out.getvalue()
