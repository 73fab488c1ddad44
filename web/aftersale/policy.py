"""The refund and exchange rules (R1.1, R5.1, R10.1; AFTERSALE_POLICY_EDIT): the version in force for every
kind and for events with their own rules, every version with who, when and why, and a form that adds a
version (a change never rewrites a version: sold tickets keep theirs)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from db.catalog.pricing import yuan_to_fen
from db.catalog.tables import Event
from db.core.errors import DomainError
from db.sales.aftersale import policies
from db.sales.aftersale.rules import DEFAULT_RULES
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import MAX_ID, Form, failure, field_text, id_suffixes, whole_number
from web.i18n import gettext
from web.templating import render

TIER_ROWS = 4


def _yuan(data: dict[str, Any], name: str) -> int | None:
    value = field_text(data, name)
    return yuan_to_fen(value, field=name) if value else None


def _tiers(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    tiers = []
    for i in sorted(id_suffixes(data, f"{prefix}_hours_", minimum=0)):
        if not (field_text(data, f"{prefix}_hours_{i}") or field_text(data, f"{prefix}_percent_{i}")):
            continue
        tiers.append(
            {
                "hours_before": field_text(data, f"{prefix}_hours_{i}"),
                "percent": field_text(data, f"{prefix}_percent_{i}"),
                "min_fee_fen": _yuan(data, f"{prefix}_min_{i}") or 0,
                "max_fee_fen": _yuan(data, f"{prefix}_max_{i}"),
            }
        )
    return tiers


def _rules_form(rules) -> dict[str, str]:
    form: dict[str, str] = {
        "free_window_hours": str(rules.free_window_hours),
        "whole_order_only": "on" if rules.whole_order_only else "",
        "exchange_allowed": "on" if rules.exchange_allowed else "",
        "approval_above": "" if rules.approval_above_fen is None else f"{rules.approval_above_fen / 100:.2f}",
    }
    for prefix, tiers in (("refund", rules.refund_tiers), ("exchange", rules.exchange_tiers)):
        for i, t in enumerate(tiers):
            form[f"{prefix}_hours_{i}"] = str(t.hours_before)
            form[f"{prefix}_percent_{i}"] = str(t.percent)
            form[f"{prefix}_min_{i}"] = f"{t.min_fee_fen / 100:.2f}" if t.min_fee_fen else ""
            form[f"{prefix}_max_{i}"] = "" if t.max_fee_fen is None else f"{t.max_fee_fen / 100:.2f}"
    return form


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    events = await Event.select(Event.id, Event.name, Event.kind).order_by(Event.id)
    default = await policies.get_version(None)
    in_force = {"": (await policies.history(event_kind=""))[:1] or [default]}
    for kind in policies.EVENT_KINDS:
        in_force[kind] = (await policies.history(event_kind=kind))[:1]
    context = {
        "events": events,
        "kinds": policies.EVENT_KINDS,
        "in_force": {k: v[0] for k, v in in_force.items() if v},
        "event_versions": {e["id"]: v[0] for e in events if (v := await policies.history(event_id=e["id"]))},
        "history": await policies.history(),
        "tier_rows": TIER_ROWS,
        "error": None,
        "error_field": None,
        "message": None,
        "form": _rules_form(DEFAULT_RULES) | {"scope": ""},
        **extra,
    }
    return render(request, "aftersale/policy.html", status_code=status_code, **context)


@get("/aftersale/policy", guards=[requires(Permission.AFTERSALE_POLICY_EDIT)])
async def policy_page(request: Request) -> Template:
    return await _page(request)


@post("/aftersale/policy", guards=[requires(Permission.AFTERSALE_POLICY_EDIT)])
async def save_policy(request: Request, data: Form) -> Template:
    """Add a version for the default, a kind (`kind:performance`) or one event (`event:12`)."""
    try:
        scope = field_text(data, "scope")
        kind, event_id = "", None
        if scope.startswith("kind:"):
            kind = scope[5:]
        elif scope.startswith("event:"):
            event_id = whole_number(scope[6:], field="scope", minimum=1, maximum=MAX_ID)
        raw = {
            "refund_tiers": _tiers(data, "refund"),
            "free_window_hours": field_text(data, "free_window_hours") or 0,
            "whole_order_only": data.get("whole_order_only") == "on",
            "exchange_allowed": data.get("exchange_allowed") == "on",
            "exchange_tiers": _tiers(data, "exchange"),
            "approval_above_fen": _yuan(data, "approval_above"),
        }
        saved = await policies.save_version(
            request.user.actor, raw, reason=field_text(data, "reason"), event_kind=kind, event_id=event_id
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, form=data, **failure(exc))
    return await _page(request, message=gettext("Version {version} of the refund rules saved.", version=saved.version))


ROUTES = [policy_page, save_policy]
