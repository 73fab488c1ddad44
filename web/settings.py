"""Web settings from the environment, with safe defaults."""

from __future__ import annotations

import os
import secrets

from db.config import ROOT

SESSION_COOKIE = "tc_session"
LANGUAGE_COOKIE = "lang"
# Cookies carry the Secure flag unless explicitly turned off (plain-HTTP development on another host).
COOKIE_SECURE = os.environ.get("TC_COOKIE_SECURE", "1") != "0"


def secret_key() -> str:
    """CSRF secret: TC_SECRET_KEY, else var/secret.key made once, so every worker shares it."""
    env = os.environ.get("TC_SECRET_KEY")
    if env:
        return env
    path = ROOT / "var" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker made it first
    return path.read_text().strip()
