"""QR-only frame decoder for the gate scanner: zxing-cpp first, escalating passes only when it reads nothing.

Pass order (stops at the first pass that reads something):

1. zxing-cpp, default binarizer, on the grayscale frame. Also collects the QR symbols it located but could
   not decode (checksum failures), which pass 2 uses.
2. Grid refinement of those located symbols: rectify the symbol, snap finder/alignment patterns by template
   matching, follow the local module grid (phase of the edge signal, coarse to fine) so that curved or
   crumpled codes are sampled at the module centres, then decode the re-rendered clean symbol.
3. zxing-cpp with the global-histogram binarizer; on an unsharp-masked image (blurred codes); on a 2x
   upscaled image (tiny codes, both binarizers); pyzbar as a last opinion.

The costly passes of 3 (upscale, pyzbar) run only on images of at most ``_FULL_PASS_PIXELS`` pixels; on
larger frames they run on crops around the symbols located in pass 1, which bounds the time spent on
frames that hold no code at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

__all__ = ["decode_frame", "decode_file"]

_QR_FORMATS = (zxingcpp.QRCodeModel1, zxingcpp.QRCodeModel2, zxingcpp.MicroQRCode)
_TEXT_MODE = zxingcpp.TextMode.Plain  # raw control characters, not HRI "<SOH>" placeholders
_LOCAL = zxingcpp.Binarizer.LocalAverage
_GLOBAL = zxingcpp.Binarizer.GlobalHistogram

_FULL_PASS_PIXELS = 360_000  # escalation passes run on the whole image only up to this size
_SHARPEN_PIXELS = 1280 * 720  # the unsharp-mask pass also runs on whole 720p frames
_MAX_CANDIDATES = 2  # located-but-undecoded symbols refined / cropped per frame
_ROI_MARGIN = 0.35  # crop margin around a located symbol, relative to its size

# Grid refinement parameters.
_MODULE_PX = 8  # pixels per module in the rectified symbol
_PAD = 3  # modules of margin around the rectified symbol
_SIGMA_SCHEDULES = ((6, 3, 1.5), (4, 2), (3,), (2,), (1.5,))  # smoothing (in modules), coarse to fine


def _pattern(size: int) -> np.ndarray:
    """Finder (7) or alignment (5) pattern as a light-background template at _MODULE_PX scale."""
    p = np.zeros((size, size), np.float32)
    p[0, :] = p[-1, :] = p[:, 0] = p[:, -1] = 1
    p[2:-2, 2:-2] = 1
    img = 255.0 - 255.0 * p
    return cv2.resize(img, None, fx=_MODULE_PX, fy=_MODULE_PX, interpolation=cv2.INTER_NEAREST)


_FINDER = _pattern(7)
_ALIGNMENT = _pattern(5)


def decode_frame(image: np.ndarray) -> list[str]:
    """Return the distinct QR texts in a BGR, BGRA or grayscale uint8 frame ([] if none)."""
    if image is None or image.size == 0:
        return []
    gray = _to_gray(image)
    texts, candidates = _read_zxing(gray, _LOCAL, keep_candidates=True)
    if texts:
        return texts
    candidates = candidates[:_MAX_CANDIDATES]
    for candidate in candidates:
        texts = _refine_candidate(gray, candidate)
        if texts:
            return texts
    for region in [gray, *_crops(gray, candidates)]:
        for escalate, max_pixels in _ESCALATIONS:
            if region.size <= max_pixels:
                texts = escalate(region)
                if texts:
                    return texts
    return []


def decode_file(path: str | os.PathLike) -> list[str]:
    """Decode an image file; [] when it cannot be read."""
    image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if image is None:
        return []
    return decode_frame(image)


def _to_gray(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        return np.ascontiguousarray(image[:, :, 0])
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"unsupported image shape {image.shape}")


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _read_zxing(gray: np.ndarray, binarizer, keep_candidates: bool = False):
    """zxing-cpp read: (texts, located-but-undecoded QR symbols) or just texts."""
    results = zxingcpp.read_barcodes(
        gray, formats=_QR_FORMATS, text_mode=_TEXT_MODE, binarizer=binarizer, return_errors=keep_candidates
    )
    texts = _unique(r.text for r in results if r.valid)
    if not keep_candidates:
        return texts
    candidates = [
        r
        for r in results
        if not r.valid and r.format == zxingcpp.QRCode and str((r.extra or {}).get("Version", "")).isdigit()
    ]
    return texts, candidates


def _read_pyzbar(gray: np.ndarray) -> list[str]:
    texts = []
    for symbol in pyzbar.decode(gray, symbols=[ZBarSymbol.QRCODE]):
        try:
            texts.append(symbol.data.decode("utf-8"))
        except UnicodeDecodeError:
            continue  # zbar's charset guess failed; do not return mangled text
    return _unique(texts)


def _sharpen(gray: np.ndarray) -> np.ndarray:
    """Strong unsharp mask: restores module contrast of defocused or motion-blurred codes."""
    return cv2.addWeighted(gray, 4.0, cv2.GaussianBlur(gray, (0, 0), 2.0), -3.0, 0)


def _upscale(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


# (pass, largest image it runs on): the costly passes only run on small images or crops, which bounds
# the time spent on large frames that hold no code.
_ESCALATIONS: tuple[tuple[Callable[[np.ndarray], list[str]], int], ...] = (
    (lambda g: _read_zxing(g, _GLOBAL), 4096 * 4096),
    (lambda g: _read_zxing(_sharpen(g), _LOCAL), _SHARPEN_PIXELS),
    (lambda g: _read_zxing(_upscale(g), _LOCAL), _FULL_PASS_PIXELS),
    (lambda g: _read_zxing(_upscale(g), _GLOBAL), _FULL_PASS_PIXELS),
    (_read_pyzbar, _FULL_PASS_PIXELS),
)


def _crops(gray: np.ndarray, candidates) -> list[np.ndarray]:
    """Crops around located-but-undecoded symbols, for frames too large for the costly passes."""
    h, w = gray.shape
    if h * w <= _FULL_PASS_PIXELS:
        return []
    crops = []
    for candidate in candidates:
        quad = _corners(candidate)
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        mx, my = (x1 - x0) * _ROI_MARGIN, (y1 - y0) * _ROI_MARGIN
        x0, x1 = int(max(0, x0 - mx)), int(min(w, x1 + mx))
        y0, y1 = int(max(0, y0 - my)), int(min(h, y1 + my))
        if x1 > x0 and y1 > y0:
            crops.append(np.ascontiguousarray(gray[y0:y1, x0:x1]))
    return crops


def _corners(result) -> np.ndarray:
    p = result.position
    return np.float32(
        [
            [p.top_left.x, p.top_left.y],
            [p.top_right.x, p.top_right.y],
            [p.bottom_right.x, p.bottom_right.y],
            [p.bottom_left.x, p.bottom_left.y],
        ]
    )


def _refine_candidate(gray: np.ndarray, candidate) -> list[str]:
    """Re-sample a located QR symbol along its locally measured module grid and decode it."""
    version = int(candidate.extra["Version"])
    n = 17 + 4 * version
    size = (n + 2 * _PAD) * _MODULE_PX

    def at(x: float, y: float) -> list[float]:
        return [(_PAD + x) * _MODULE_PX, (_PAD + y) * _MODULE_PX]

    corners = np.float32([at(0, 0), at(n, 0), at(n, n), at(0, n)])
    homography = cv2.getPerspectiveTransform(_corners(candidate), corners)
    rect = _warp(gray, homography, size)

    # Snap the homography to the finder patterns and the bottom-right alignment pattern.
    if version >= 2:
        expected = [at(3.5, 3.5), at(n - 3.5, 3.5), at(3.5, n - 3.5), at(n - 6.5, n - 6.5)]
        templates = [_FINDER, _FINDER, _FINDER, _ALIGNMENT]
        found = [_locate(rect, t, c, 3 * _MODULE_PX) for t, c in zip(templates, expected, strict=False)]
        if all(f is not None for f in found):
            source = cv2.perspectiveTransform(np.float32(found)[None], np.linalg.inv(homography))[0]
            homography = cv2.getPerspectiveTransform(source, np.float32(expected))
            rect = _warp(gray, homography, size)

    smoothed = cv2.blur(rect, (3, 3))
    cells = size // _MODULE_PX
    background = cv2.GaussianBlur(cv2.resize(rect, (cells, cells), interpolation=cv2.INTER_AREA), (0, 0), 2)
    inner = slice(_PAD, _PAD + n)
    for schedule in _SIGMA_SCHEDULES:
        map_x, map_y = _follow_grid(rect, schedule)
        level = cv2.remap(smoothed, map_x, map_y, cv2.INTER_LINEAR)
        to_cell = (_MODULE_PX / 2 - 0.5) / _MODULE_PX
        local = cv2.remap(
            background,
            map_x / _MODULE_PX - to_cell,
            map_y / _MODULE_PX - to_cell,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        dark = level < local
        symbol = np.full((n + 8, n + 8), 255, np.uint8)
        symbol[4 : 4 + n, 4 : 4 + n][dark[inner, inner]] = 0
        symbol = cv2.resize(symbol, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
        texts = _read_zxing(symbol, _LOCAL)
        if texts:
            return texts
    return []


def _warp(gray: np.ndarray, homography: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpPerspective(
        gray, homography, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float32)


def _locate(rect: np.ndarray, template: np.ndarray, centre: list[float], radius: int):
    """Centre of the best template match within radius of centre, or None."""
    t = template.shape[0]
    x0 = max(0, int(centre[0] - t / 2 - radius))
    y0 = max(0, int(centre[1] - t / 2 - radius))
    window = rect[y0 : y0 + t + 2 * radius, x0 : x0 + t + 2 * radius]
    if window.shape[0] <= t or window.shape[1] <= t:
        return None
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if best < 0.3:
        return None
    return (x0 + bx + t / 2, y0 + by + t / 2)


def _follow_grid(rect: np.ndarray, schedule: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """Where each module centre of rect really is, following the local phase of the module edges.

    Returns float32 maps (one entry per module cell) of x and y coordinates in rect; the offsets are
    re-estimated on the re-sampled image for each smoothing width of the schedule (coarse to fine).
    """
    size = rect.shape[0]
    cells = size // _MODULE_PX
    cell_centres = (np.arange(cells, dtype=np.float32) + 0.5) * _MODULE_PX - 0.5
    map_x, map_y = np.meshgrid(cell_centres, cell_centres)
    cell_x, cell_y = np.meshgrid(np.arange(cells, dtype=np.float32), np.arange(cells, dtype=np.float32))
    current = rect
    for sigma in schedule:
        dx, dy = _grid_phase(current, sigma)
        # Compose: new_map(p) = old_map(p + d(p)), evaluated on the cell grid.
        at_x, at_y = cell_x + dx / _MODULE_PX, cell_y + dy / _MODULE_PX
        map_x = cv2.remap(map_x, at_x, at_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        map_y = cv2.remap(map_y, at_x, at_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        full_x = _cells_to_pixels(map_x, size)
        full_y = _cells_to_pixels(map_y, size)
        current = cv2.remap(rect, full_x, full_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return map_x, map_y


def _cells_to_pixels(cell_map: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(cell_map, (size, size), interpolation=cv2.INTER_LINEAR)


def _grid_phase(rect: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell offset (pixels) of the module edges from the ideal grid, smoothed over sigma modules."""
    size = rect.shape[0]
    cells = size // _MODULE_PX
    omega = 2 * np.pi / _MODULE_PX
    phase = omega * np.arange(size, dtype=np.float32)
    cos, sin = np.cos(phase), np.sin(phase)
    gx = np.abs(cv2.Sobel(rect, cv2.CV_32F, 1, 0, ksize=3))
    gy = np.abs(cv2.Sobel(rect, cv2.CV_32F, 0, 1, ksize=3))

    def smooth(a: np.ndarray) -> np.ndarray:  # average over each module cell, then blur between cells
        small = cv2.resize(a, (cells, cells), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (0, 0), sigma)

    dx = np.arctan2(smooth(gx * sin[None, :]), smooth(gx * cos[None, :])) / omega
    dy = np.arctan2(smooth(gy * sin[:, None]), smooth(gy * cos[:, None])) / omega
    return dx, dy
