"""Real video files for the camera-client tests: cv2.VideoWriter (MJPG in .avi) frames of a hand-held
ticket's QR code (segno) at a realistic size, with sensor noise, slight blur and drift."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import segno

FPS = 10


def _symbol(text: str, module_px: int) -> np.ndarray:
    qr = segno.make_qr(text, error="m")
    matrix = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], np.uint8)
    matrix = np.pad(matrix, 4, constant_values=255)
    return cv2.resize(matrix, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)


def write_video(
    path: Path,
    segments: list[tuple[str | None, float]],
    *,
    size: tuple[int, int] = (640, 480),
    module_px: int = 4,
    seed: int = 7,
) -> Path:
    """`segments`: (QR text or None for an empty scene, seconds). Returns the path."""
    rng = np.random.default_rng(seed)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, size)
    assert writer.isOpened(), "cv2.VideoWriter could not open the file"
    try:
        for text, seconds in segments:
            symbol = _symbol(text, module_px) if text else None
            for i in range(max(1, round(seconds * FPS))):
                frame = np.full((height, width), 120, np.float32) + np.linspace(-20, 20, width, dtype=np.float32)
                if symbol is not None:
                    h, w = symbol.shape
                    x = (width - w) // 2 + int(6 * np.sin(i / 3))  # the hand drifts a little
                    y = (height - h) // 2 + int(4 * np.cos(i / 4))
                    frame[y : y + h, x : x + w] = symbol * 0.8 + 30  # paper is not white, ink not black
                frame = cv2.GaussianBlur(frame, (0, 0), 0.8) + rng.normal(0, 5, frame.shape)
                writer.write(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return path
