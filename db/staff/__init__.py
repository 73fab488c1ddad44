"""Staff accounts, their sessions and roles (R2.2)."""
