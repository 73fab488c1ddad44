"""Sales policy (R1.1, R3.3-R3.6; POLICY_EDIT): per channel whether orders wait for an auditor and how long
stock is held, the buyer details a sale needs per kind of event and channel, the group discount tiers, and the
concession kinds. Every change is audited by db.sales.policy."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from db.catalog.pricing import yuan_to_fen
from db.core.errors import DomainError
from db.sales.ordering.buyer import BUYER_DETAILS, ID_TYPES
from db.sales.ordering.pricing import Tier
from db.sales.policy import (
    DEFAULT_HOLD_MINUTES,
    buyer_policies,
    concession_kinds,
    group_tiers,
    list_channel_policies,
    save_concession_kind,
    set_buyer_details,
    set_channel_policy,
    set_group_tiers,
)
from db.sales.status import CHANNELS
from db.staff.permissions import Permission
from web.auth import requires
from web.forms import Form, failure, field_text, form_number, id_suffixes, listed
from web.i18n import gettext
from web.templating import render

BLANK_TIER_ROWS = 2


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    policies = {p["channel"]: p for p in await list_channel_policies()}
    channels = [
        policies.get(c, {"channel": c, "needs_audit": False, "hold_minutes": DEFAULT_HOLD_MINUTES}) for c in CHANNELS
    ]
    return render(
        request,
        "sales/policy.html",
        status_code=status_code,
        channels=channels,
        buyer_policies=await buyer_policies(),
        buyer_details=BUYER_DETAILS,
        tiers=await group_tiers(),
        blank_tiers=BLANK_TIER_ROWS,
        kinds=await concession_kinds(active_only=False),
        id_types=ID_TYPES,
        **{"error": None, "error_field": None, "section": None, "message": None, "form": {}, **extra},
    )


def _kind_form(kind: dict) -> dict[str, str]:
    """A concession kind as the form's values (to change it)."""
    fixed = kind["fixed_price_fen"]
    return {
        "code": kind["code"],
        "name_zh": kind["name_zh"],
        "name_en": kind["name_en"],
        "id_hint": kind["id_hint"],
        "percent_off": "" if kind["percent_off"] is None else str(kind["percent_off"]),
        "fixed_price": "" if fixed is None else f"{fixed // 100}.{fixed % 100:02d}",
        "requires_id": "on" if kind["requires_id"] else "",
        "active": "on" if kind["active"] else "",
    }


@get("/sales/policy", guards=[requires(Permission.POLICY_EDIT)])
async def policy_page(request: Request, edit: FromQuery[str] = "") -> Template:
    """The policy page; `?edit=CODE` fills the concession form with that kind."""
    kind = next((k for k in await concession_kinds(active_only=False) if k["code"] == edit), None) if edit else None
    return await _page(request, **({"section": "concession", "form": _kind_form(kind)} if kind else {}))


@post("/sales/policy/channels/{channel:str}", guards=[requires(Permission.POLICY_EDIT)])
async def channel_save(request: Request, channel: FromPath[str], data: Form) -> Template:
    try:
        await set_channel_policy(
            request.user.actor, channel, data.get("needs_audit") == "on", form_number(data, "hold_minutes")
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, section=f"channel-{channel}", **failure(exc))
    return await _page(request, message=gettext("Channel policy saved."))


@post("/sales/policy/buyer-details/{kind:str}/{channel:str}", guards=[requires(Permission.POLICY_EDIT)])
async def buyer_details_save(request: Request, kind: FromPath[str], channel: FromPath[str], data: Form) -> Template:
    """A new version of the buyer details sales of this kind of event on this channel ask for (R1.1)."""
    try:
        version = await set_buyer_details(request.user.actor, kind, channel, set(listed(data, "details")))
    except DomainError as exc:
        return await _page(request, exc.status_code, section=f"buyer-{kind}-{channel}", **failure(exc))
    return await _page(request, message=gettext("Buyer details saved as version {version}.", version=version))


@post("/sales/policy/group-tiers", guards=[requires(Permission.POLICY_EDIT)])
async def tiers_save(request: Request, data: Form) -> Template:
    try:
        rows = sorted(id_suffixes(data, "min_size_", minimum=0))
        tiers = [
            Tier(form_number(data, f"min_size_{i}"), form_number(data, f"percent_off_{i}"))
            for i in rows
            if field_text(data, f"min_size_{i}") or field_text(data, f"percent_off_{i}")
        ]
        await set_group_tiers(request.user.actor, tiers)
    except DomainError as exc:
        return await _page(request, exc.status_code, section="tiers", form=data, **failure(exc))
    return await _page(request, message=gettext("Group discount tiers saved."))


@post("/sales/policy/concessions", guards=[requires(Permission.POLICY_EDIT)])
async def concession_save(request: Request, data: Form) -> Template:
    try:
        fixed = field_text(data, "fixed_price")
        await save_concession_kind(
            request.user.actor,
            field_text(data, "code"),
            field_text(data, "name_zh"),
            field_text(data, "name_en"),
            percent_off=form_number(data, "percent_off") if field_text(data, "percent_off") else None,
            fixed_price_fen=yuan_to_fen(fixed, field="fixed_price") if fixed else None,
            requires_id=data.get("requires_id") == "on",
            id_hint=field_text(data, "id_hint"),
            active=data.get("active") == "on",
        )
    except DomainError as exc:
        return await _page(request, exc.status_code, section="concession", form=data, **failure(exc))
    return await _page(request, message=gettext("Concession kind saved."))


ROUTES = [buyer_details_save, policy_page, channel_save, tiers_save, concession_save]
