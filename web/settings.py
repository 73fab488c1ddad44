"""Web settings from the environment, with safe defaults."""

from __future__ import annotations

import os

from db.core.engine import secret

SESSION_COOKIE = "tc_session"
LANGUAGE_COOKIE = "lang"
# Cookies carry the Secure flag unless explicitly turned off (plain-HTTP development on another host).
COOKIE_SECURE = os.environ.get("TC_COOKIE_SECURE", "1") != "0"


def secret_key() -> str:
    """CSRF and cookie-signing secret: TC_SECRET_KEY, else var/secret.key, shared by every worker."""
    return secret("TC_SECRET_KEY", "secret.key")
