"""The full-window verdict: green (admit), amber (admit after checking the concession ID), red (refuse),
with a big title, the reason, seat and class, and an OFFLINE banner while the database is out of reach.

Chinese text is drawn with Pillow and a CJK font (fonts-noto-cjk); without one the verdict is shown in
English with OpenCV's own font. The sound: scanner/sound.py."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from db.core.i18n import seat_label, translate
from db.gate.rules import REASONS, attention_text
from db.sales.tickets.short_numbers import grouped
from scanner.sound import Sound

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
BANNER_HEIGHT = 70
GREEN, AMBER, RED, GREY = (40, 150, 40), (0, 160, 235), (40, 40, 200), (60, 60, 60)  # BGR
TITLES = {
    "ok": "Admit",
    "already_redeemed": "Already admitted",
    "invalid": "Invalid ticket",
    "revoked": "Ticket void",
    "unpaid": "Not paid",
    "wrong_gate": "Wrong gate",
    "wrong_session": "Wrong session",
    "invalid_time": "Not admission time",
}
OFFLINE_BANNER = "OFFLINE: scans are kept on this device and uploaded when the database is back"
STALE_BANNER = "Revocation list stale: refunded tickets may still pass. Check doubtful tickets at the box office."
READY = "Ready: show the ticket's QR code, or type its ticket number"
TYPING = "Ticket number: {digits}"
TYPING_HELP = "Enter checks the number, Backspace deletes a digit."
SEAT_LINE = "Seat: {seat}"
CLASS_LINE = "Class: {name}"
HOLDER_LINE = "Holder: {name} · ID {id}"  # a real-name session: match the person against the ID


@cache
def _font_path() -> str | None:
    return next((p for p in FONT_CANDIDATES if Path(p).exists()), None)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(), size)


@lru_cache(maxsize=1024)
def _text_mask(text: str, size: int) -> Image.Image:
    """A line of text as an alpha mask, rasterised once: titles and reasons repeat scan after scan."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right), max(1, bottom)))
    ImageDraw.Draw(mask).text((0, 0), text, font=font, fill=255)
    return mask


class VerdictScreen:
    def __init__(self, language: str = "zh_CN", size: tuple[int, int] = (1280, 720), sound: bool = True) -> None:
        self.language = language if _font_path() else "en"
        self.width, self.height = size
        self.sound = Sound() if sound else None

    def _(self, message: str, **params: object) -> str:
        return translate(self.language, message, **params)

    def lines(
        self, verdict: dict[str, Any] | None, offline: bool, typed: str = ""
    ) -> tuple[tuple[int, int, int], list[tuple[str, int]]]:
        """(background colour, [(text, size)]) for a verdict, or the ready screen for None (with the digits
        typed so far, if any)."""
        if verdict is None and typed:
            return GREY, [(self._(TYPING, digits=grouped(typed)), 72), (self._(TYPING_HELP), 40)]
        if verdict is None:
            return GREY, [(self._(READY), 56)]
        status = verdict["status"]
        colour = (AMBER if verdict["attention"] else GREEN) if status == "ok" else RED
        ticket = verdict.get("ticket") or {}
        out = [(self._(TITLES[status]), 110)]
        if verdict["attention"]:
            out.append((attention_text(verdict, self.language, self._), 52))
        out.append((self._(REASONS[verdict["reason_code"]], **verdict["reason_params"]), 44))
        if ticket.get("seat"):
            out.append((self._(SEAT_LINE, seat=seat_label(**ticket["seat"], language=self.language)), 52))
        if ticket.get("class"):
            out.append((self._(CLASS_LINE, name=ticket["class"]), 44))
        if ticket.get("holder"):
            holder = ticket["holder"]
            out.append((self._(HOLDER_LINE, name=holder["name"], id=holder["id_masked"]), 52))
        scale = min(self.width / 1280, self.height / 720)
        return colour, [(text, max(14, int(size * scale))) for text, size in out]

    def render(self, verdict: dict[str, Any] | None, offline: bool, typed: str = "") -> np.ndarray:
        colour, lines = self.lines(verdict, offline, typed)
        banner = self._(OFFLINE_BANNER) if offline else ""
        if verdict and verdict.get("revocation_list_stale"):
            banner = self._(STALE_BANNER)
        if self.language == "en" or _font_path() is None:
            return self._render_cv2(np.full((self.height, self.width, 3), colour, np.uint8), lines, banner)
        pil = Image.new("RGB", (self.width, self.height), colour[::-1])
        y = 40
        if banner:
            size = max(12, min(34, int(self.width / (len(banner) + 2))))
            ImageDraw.Draw(pil).rectangle((0, 0, self.width, BANNER_HEIGHT), fill=(0, 0, 0))
            pil.paste((255, 200, 0), (16, (BANNER_HEIGHT - size) // 2), _text_mask(banner, size))
            y = BANNER_HEIGHT + 40
        for text, size in lines:
            for chunk in _wrap(text, max(8, int(self.width / (size * 1.02)))):
                pil.paste((255, 255, 255), (40, y), _text_mask(chunk, size))
                y += int(size * 1.3)
        return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)

    def _render_cv2(self, image: np.ndarray, lines: list[tuple[str, int]], banner: str) -> np.ndarray:
        y = 60
        if banner:
            cv2.rectangle(image, (0, 0), (self.width, BANNER_HEIGHT), (0, 0, 0), -1)
            cv2.putText(image, banner, (20, 45), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 200, 255), 2)
            y = 130
        for text, size in lines:
            for chunk in _wrap(text, max(8, int(self.width / (size * 0.55)))):
                cv2.putText(
                    image, chunk, (40, y), cv2.FONT_HERSHEY_SIMPLEX, size / 40, (255, 255, 255), max(2, size // 25)
                )
                y += int(size * 1.4)
        return image

    def beep(self, verdict: dict[str, Any]) -> None:
        if self.sound is not None:
            self.sound.play(verdict)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]
