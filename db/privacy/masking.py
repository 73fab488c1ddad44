"""How customer data shows when it is not revealed (GB/T 35273 de-identification): enough to recognise,
not enough to use. Pure functions."""

from __future__ import annotations

FIELDS = ("phone", "email")  # the fields a reveal can show in full (ID numbers are stored masked only)
ANONYMISED_NAME = "（已匿名）"


def mask_phone(phone: str) -> str:
    """13800138000 -> 138****8000; short numbers keep only their last two digits."""
    digits = phone.strip()
    if not digits:
        return ""
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(email: str) -> str:
    """xiaoming@example.cn -> x***@example.cn."""
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.partition("@")
    if not at:
        return local[:1] + "***"
    return f"{local[:1]}***@{domain}"


def masked(field: str, value: str) -> str:
    return mask_phone(value) if field == "phone" else mask_email(value)
