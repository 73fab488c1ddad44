"""The audit log (R6.3): every recorded write, newest first, filtered and paged; for supervisors,
auditors and system administrators. The filter form swaps the results partial over HTMX and works as a
plain GET form without JavaScript."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from db.audit import record as audit
from db.sales.aftersale.refunds import STATUS_LABELS as REFUND_STATUS
from db.staff.permissions import Permission
from web import labels
from web.auth import requires
from web.forms import QueryPage
from web.i18n import DEFAULT_TIMEZONE, format_fen, gettext, local_time
from web.templating import render

PAGE_SIZE = 50
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def _local_day(value: str | None, label: str) -> dt.datetime | None:
    """Midnight of a yyyy-mm-dd day in the center's time zone, as UTC."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(gettext("{label}: enter a date like 2026-11-26.", label=label)) from None
    return dt.datetime.combine(day, dt.time(), ZoneInfo(DEFAULT_TIMEZONE)).astimezone(dt.UTC)


# Coded values shown by their labels (the raw entry stays under the row's details toggle); a status by the
# labels of the kind of object the entry is about, an order's by the order's and its refunds'.
STATUSES = {
    "statement": labels.STATEMENT_STATUS,
    "shift": labels.SHIFT_STATUS,
    "stocktake": labels.STOCKTAKE_STATUS,
    "session": labels.SESSION_STATUS,
    "session_change": labels.CHANGE_STATUS,
}
CODED = {
    "channel": labels.CHANNEL | labels.STOCK_CHANNEL,
    "method": labels.PAYMENT_METHOD,
    "kind": labels.ALERT_KIND,
    "role": labels.ROLE,
}


def _label(object_type: str, key: str, value: Any) -> str | None:
    codes = STATUSES.get(object_type, REFUND_STATUS | labels.ORDER_STATUS) if key == "status" else CODED.get(key, {})
    return gettext(codes[value]) if isinstance(value, str) and value in codes else None


def _shown(key: str, value: Any, object_type: str = "") -> str:
    """A recorded value as people read it: money in yuan, codes by their labels, times in local time,
    structures as JSON."""
    if value is None:
        return "—"
    if label := _label(object_type, key, value):
        return label
    if key.endswith("_fen") and isinstance(value, int):
        return format_fen(value)
    if isinstance(value, str) and ISO_TIME.match(value):
        return local_time(dt.datetime.fromisoformat(value), "yyyy-MM-dd HH:mm:ss")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _changes(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """before/after as rows (field, before, after, changed), in the order the operation wrote them."""
    before, after = entry["before"] or {}, entry["after"] or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        {
            "field": key,
            "before": _shown(key, before.get(key), entry["object_type"]) if entry["before"] is not None else "",
            "after": _shown(key, after.get(key), entry["object_type"]) if entry["after"] is not None else "",
            "changed": entry["before"] is not None and entry["after"] is not None and before.get(key) != after.get(key),
        }
        for key in keys
    ]


@get("/auditlog", guards=[requires(Permission.AUDIT_LOG_VIEW)], name="auditlog")
async def audit_log(
    request: Request,
    action: FromQuery[str] = "",
    actor: FromQuery[str] = "",
    object_type: FromQuery[str] = "",
    since: FromQuery[str] = "",
    until: FromQuery[str] = "",
    page: QueryPage = 1,
) -> Template:
    filters = {
        "action": action.strip(),
        "actor": actor.strip(),
        "object_type": object_type.strip(),
        "since": since,
        "until": until,
    }
    page = max(page, 1)
    entries: list[dict[str, Any]] = []
    error = None
    try:
        start = _local_day(since, gettext("From"))
        end = _local_day(until, gettext("To"))
    except ValueError as exc:
        error = str(exc)
    else:
        entries = await audit.search(
            action=filters["action"] or None,
            actor=filters["actor"] or None,
            object_type=filters["object_type"] or None,
            since=start,
            until=end + dt.timedelta(days=1) if end else None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
    has_older = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    for entry in entries:
        entry["changes"] = _changes(entry)
        entry["raw"] = json.dumps({"before": entry["before"], "after": entry["after"]}, ensure_ascii=False, indent=1)
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "auditlog/log.html",
        partial="auditlog/_results.html",
        status_code=422 if error else 200,
        entries=entries,
        filters=filters,
        object_types=await audit.object_types(),
        error=error,
        page=page,
        newer_url=f"/auditlog?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        older_url=f"/auditlog?{urlencode({**query, 'page': page + 1})}" if has_older else None,
    )


ROUTES = [audit_log]

NAV = [(Permission.AUDIT_LOG_VIEW, "/auditlog", "Audit log")]
