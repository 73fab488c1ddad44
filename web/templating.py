"""Jinja setup shared by every area: translations, money and time filters, and the full-page vs
HTMX-partial rule (a partial is the same file the full page includes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template

from db.sales.aftersale.rules import REASONS as REFUND_REASONS
from db.sales.aftersale.rules import describe as describe_rules
from db.sales.tickets.short_numbers import grouped
from db.staff.permissions import Permission
from web import labels
from web.i18n import (
    LANGUAGES,
    current_language,
    format_fen,
    format_number,
    gettext,
    local_time,
    ngettext,
    order_note,
    seat_label,
    translated_labels,
)
from web.remembered import remembered_plan
from web.seat_cells import seat_cells


def configure(engine: JinjaTemplateEngine, menu: Sequence[Any]) -> None:
    """The environment of every template; `menu` is web.menu.MENU (passed in: web.menu imports every area)."""
    env: Environment = engine.engine
    env.globals.update(
        _=gettext,
        ngettext=ngettext,
        seat_label=seat_label,
        P=Permission,
        MENU=menu,
        ROLE_LABELS=labels.ROLE,
        LABELS=labels.ALL,
        REFUND_REASONS=REFUND_REASONS,
        describe_rules=describe_rules,
        translated_labels=translated_labels,
        LANGUAGES=LANGUAGES,
        current_language=current_language.get,
        remembered_plan=remembered_plan,
        seat_cells=seat_cells,
        error_fields=(),  # a page without a refused form marks no field (web/forms.py failure)
    )
    env.filters.update(
        fen=format_fen, order_note=order_note, localtime=local_time, number=format_number, ticket_number=grouped
    )
    env.autoescape = True


def render(
    request: Request, template: str, partial: str | None = None, status_code: int = 200, **context: Any
) -> Template:
    """The full page, or for an HTMX request the partial it includes (same context, same file)."""
    name = (
        partial if partial and request.headers.get("hx-request") and not request.headers.get("hx-boosted") else template
    )
    return Template(name, context=context, status_code=status_code)
