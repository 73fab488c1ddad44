"""Typing a ticket's short number on the gate PC's keyboard (the visitor's QR code does not read: a cracked
screen, a crumpled print). Digits build the number, Backspace takes one back, Enter checks it; spaces and
anything else are ignored (q and Esc still quit the window). Pure: fed with the key codes of cv2.waitKey."""

from __future__ import annotations

from db.sales.tickets.short_numbers import LENGTH

ENTER = (10, 13)
BACKSPACE = (8, 127)


class Keypad:
    def __init__(self) -> None:
        self.digits = ""

    def feed(self, key: int) -> str | None:
        """One key; the typed number when Enter ends it, else None."""
        if key < 0:
            return None
        key &= 0xFF
        if 48 <= key <= 57 and len(self.digits) < LENGTH + 4:
            self.digits += chr(key)
        elif key in BACKSPACE:
            self.digits = self.digits[:-1]
        elif key in ENTER and self.digits:
            typed, self.digits = self.digits, ""
            return typed
        return None
