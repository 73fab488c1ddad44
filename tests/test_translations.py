"""Every user-visible English msgid has a Simplified Chinese translation (zh-CN is the default UI).

Collected from the source, not from a list: `_("...")` literals in templates; in db/ the message passed
to DomainError or any of its subclasses (found by walking class definitions) and seat-map problems; in
web/ literal gettext() calls, navigation labels, every label of web/labels.py and error titles; the gate
verdicts' reasons and attention notes (db/gate/rules.py), the seat label (db/core/i18n.py) and the camera
client's verdict screen."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from db.core.i18n import SEAT_LABEL
from db.gate.rules import ATTENTION, ATTENTION_SECTION, ATTENTION_UNNAMED, REASONS
from db.sales.aftersale.refunds import STATUS_LABELS as REFUND_STATUS_LABELS
from db.sales.aftersale.rules import REASONS as AFTERSALE_REASONS
from db.sales.aftersale.rules import Rules, Tier
from db.sales.aftersale.rules import describe as describe_rules
from scanner import verdict_ui
from web.app import AREAS
from web.errors import TITLES
from web.labels import ALL as LABELS
from web.menu import MENU

ROOT = Path(__file__).resolve().parent.parent
EVERY_RULE = Rules(
    (Tier(72, 0), Tier(48, 5, 100, 900)),
    free_window_hours=2,
    whole_order_only=True,
    exchange_tiers=(Tier(48, 0), Tier(24, 10)),
)
TEMPLATE_MSGID = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
BASE_ERRORS = {"DomainError", "InvalidInput", "NotFound", "Conflict", "PermissionDenied", "TooManyAttempts"}


def translated() -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((ROOT / "translations" / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="zh_CN"):
                if message.id and message.string and not message.fuzzy:
                    messages[message.id] = message.string
    return messages


def template_msgids() -> dict[str, str]:
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for match in TEMPLATE_MSGID.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1) if match.group(1) is not None else match.group(2)] = str(path.relative_to(ROOT))
    return found


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _trees(folder: str) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted((ROOT / folder).rglob("*.py"))]


def error_classes(trees) -> set[str]:
    """DomainError and every class that derives from it anywhere in db/ or web/."""
    names = set(BASE_ERRORS)
    classes = [node for _, tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in names and any(_name(base) in names for base in cls.bases):
                names.add(cls.name)
                grew = True
    return names


def code_msgids() -> dict[str, str]:
    trees = _trees("db") + _trees("web")
    errors = error_classes(trees)
    found = {}
    for path, tree in trees:
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            head = node.args[0] if node.args else None
            first = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else None
            if first is not None and (name in errors or name == "__init__" and where.startswith("db/")):
                found[first] = where  # a DomainError's message, or one passed up by a subclass's __init__
            elif first is not None and name == "refuse":
                found[first] = where  # one of a form's refusals, shown all at once (db/core/errors.py Refusals)
            elif name == "SeatProblem" and len(args) >= 1:
                found[args[0]] = where
            elif first is not None and name in ("gettext", "_"):
                found[first] = where
    return found


def label_msgids() -> dict[str, str]:
    found = {label: "NAV" for area in AREAS for _, _, label in getattr(area, "NAV", [])}
    found |= {group.label: "web/menu.py MENU" for group in MENU}
    found |= {label: f"web/labels.py {name}" for name, labels in LABELS.items() for label in labels.values()}
    found |= {title: "web/errors.py TITLES" for title in TITLES.values()}
    found[SEAT_LABEL] = "db/core/i18n.py SEAT_LABEL"
    found |= {text: "db/sales/aftersale/rules.py REASONS" for text in AFTERSALE_REASONS.values()}
    found |= {text: "db/sales/aftersale/rules.py describe" for text, _ in describe_rules(EVERY_RULE)}
    found |= {label: "db/sales/aftersale/refunds.py STATUS_LABELS" for label in REFUND_STATUS_LABELS.values()}
    found |= {text: "db/gate/rules.py" for text in (*REASONS.values(), ATTENTION, ATTENTION_UNNAMED, ATTENTION_SECTION)}
    found |= {
        text: "scanner/verdict_ui.py"
        for text in (
            *verdict_ui.TITLES.values(),
            verdict_ui.OFFLINE_BANNER,
            verdict_ui.READY,
            verdict_ui.SEAT_LINE,
            verdict_ui.CLASS_LINE,
            verdict_ui.HOLDER_LINE,
        )
    }
    return found


def test_collectors_find_known_strings():
    """The scanners themselves work: strings known to exist are found."""
    assert template_msgids()["Sign out"] == "templates/base.html"
    code = code_msgids()
    assert "Unknown role: {role}" in code and "A price cannot be below zero." in code
    assert (
        "the header must be {header}" in code and code["Choose the price class to change."] == "web/catalog/sessions.py"
    )
    assert any(m.startswith("The seat map has {count} problem") for m in code)
    assert code["Enter the venue's city."] == "db/catalog/operations.py"  # a Refusals.refuse
    assert "Venues" in label_msgids()


def test_every_user_visible_string_has_a_zh_cn_translation():
    have = translated()
    wanted = {**label_msgids(), **code_msgids(), **template_msgids()}
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in wanted.items() if msgid not in have)
    assert not missing, f"{len(missing)} strings have no zh_CN msgstr:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    """A translation that drops or renames a {param} would fail at run time (KeyError) or lose data."""
    broken = [
        f"{msgid!r} -> {text!r}"
        for msgid, text in translated().items()
        if set(re.findall(r"\{(\w+)\}", msgid)) != set(re.findall(r"\{(\w+)\}", text))
    ]
    assert not broken, "\n".join(broken)


def test_an_order_status_in_an_error_reads_as_staff_name_it():
    from db.core.errors import Conflict
    from web.errors import explain
    from web.i18n import current_language

    refusal = Conflict("This order cannot be paid (it is {status}).", status="cancelled")
    token = current_language.set("zh_CN")
    try:
        assert explain(refusal) == "该订单无法付款（当前：已取消）。"
    finally:
        current_language.reset(token)
    token = current_language.set("en")
    try:
        assert explain(refusal) == "This order cannot be paid (it is Cancelled)."
    finally:
        current_language.reset(token)


def test_no_english_only_aria_label_or_title_in_templates():
    """Screen readers and tooltips speak the page's language: aria-label, title and alt go through _()."""
    literal = re.compile(r"""\b(?:aria-label|title|alt)="([^"{]*[A-Za-z][^"{]*)\"""")
    found = [
        (str(path.relative_to(ROOT)), text)
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for text in literal.findall(path.read_text(encoding="utf-8"))
    ]
    assert found == []
