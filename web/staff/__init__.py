"""Sign-in, home page, language switch and staff account management."""
