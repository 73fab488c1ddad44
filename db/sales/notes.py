"""Order-history notes that name a refund, an exchange or a declined refund: written in English (the audit
summary quotes the same text) and read back as kind + params, so that each page words them in its own
language with money in yuan; rows written before this module read back the same way (issue 15)."""

from __future__ import annotations

import re

TEMPLATES = {
    "refund": "{number}: {tickets} ticket(s), refund {refund_fen} fen, fee {fee_fen} fen",
    "exchange": "{number}: {tickets} ticket(s) exchanged, order {order} -> {new_order}, fee {fee_fen} fen, "
    "difference {difference_fen} fen",
    "declined": "{number} declined: {reason}",
}
NUMBERS = {"tickets", "refund_fen", "fee_fen", "difference_fen"}


def note(kind: str, **params: object) -> str:
    return TEMPLATES[kind].format(**params)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else (rf"(?P<{part}>-?\d+)" if part in NUMBERS else rf"(?P<{part}>.+?)")
            for i, part in enumerate(parts)
        ),
        re.DOTALL,
    )


PATTERNS = {kind: _pattern(template) for kind, template in TEMPLATES.items()}


def parse(text: str) -> tuple[str, dict[str, str | int]] | None:
    """The kind and params of a note written by `note`, or None for any other text."""
    for kind, pattern in PATTERNS.items():
        found = pattern.fullmatch(text)
        if found:
            return kind, {k: int(v) if k in NUMBERS else v for k, v in found.groupdict().items()}
    return None
