"""Decode-rate benchmark of the gate scanner's frame decoder (scanner.decode.decode_frame).

Part 1 (default): the real-photo corpus (../shared/qr-corpus: every image as is and rotated 90/180/270),
hits and ms per attempt for decode_frame, plain zxing-cpp (default options) and pyzbar alone; then the
time of decode_frame on a 1280x720 frame with one ticket-like code and on one with no code.

Part 2 (--synthetic): ticket-like codes (111 base45 characters, QR alphanumeric mode, level M; and a
34-character one) rendered into 1280x720 frames at decreasing module size and increasing blur: which read.

    .venv/bin/python bench/decode_rate.py [--corpus ../shared/qr-corpus] [--synthetic]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import segno
import zxingcpp
from pyzbar import pyzbar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scanner.decode import decode_frame  # noqa: E402

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
ROTATIONS = (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE)
MODULE_SIZES = (6, 5, 4, 3.5, 3, 2.5, 2, 1.5)
BLURS = (0, 1, 2, 3)
FRAME_W, FRAME_H = 1280, 720


def sample_payload(length: int) -> str:
    """Deterministic base45-alphabet text, like a base45-encoded signed ticket."""
    return "".join(BASE45[(i * 17 + 5) % 45] for i in range(length))


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def load_corpus(corpus: Path) -> list[tuple[str, str, np.ndarray]]:
    """(set name, expected text, image) for every image and rotation."""
    attempts = []
    for image_path in sorted(corpus.glob("set*/*.png")):
        expected = normalise(image_path.with_suffix(".txt").read_text(encoding="utf-8"))
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        for rotation in ROTATIONS:
            rotated = image if rotation is None else cv2.rotate(image, rotation)
            attempts.append((image_path.parent.name, expected, rotated))
    return attempts


def zxing_default(image: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def pyzbar_alone(image: np.ndarray) -> list[str]:
    return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(image)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def run_corpus(corpus: Path) -> None:
    attempts = load_corpus(corpus)
    sets = sorted({name for name, _, _ in attempts})
    print(f"Corpus {corpus} : {len(attempts)} attempts ({len(attempts) // 4} images x 4 rotations)")
    header = f"{'decoder':<22}{'hits':>10}  " + " ".join(f"{s:>8}" for s in sets) + f"{'median ms':>11}{'p95 ms':>9}"
    print(header)
    for label, decoder in (
        ("scanner.decode_frame", decode_frame),
        ("zxing-cpp default", zxing_default),
        ("pyzbar alone", pyzbar_alone),
    ):
        hits, per_set, times = 0, dict.fromkeys(sets, 0), []
        for name, expected, image in attempts:
            start = time.perf_counter()
            texts = decoder(image)
            times.append((time.perf_counter() - start) * 1000)
            if any(normalise(t) == expected for t in texts):
                hits += 1
                per_set[name] += 1
        per_set_text = " ".join(f"{per_set[s]:>4}/{sum(1 for n, _, _ in attempts if n == s):<3}" for s in sets)
        print(
            f"{label:<22}{hits:>6}/{len(attempts):<3}  {per_set_text}"
            f"{statistics.median(times):>11.2f}{percentile(times, 95):>9.2f}"
        )
    print()
    run_frame_timing()


def render_code(payload: str, module_px: float, blur: float, rotation_deg: float = 0.0, seed: int = 0) -> np.ndarray:
    """A 1280x720 grayscale frame: the QR code (level M) on white paper, light noise, optional blur."""
    qr = segno.make_qr(payload, error="m", boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    modules = np.pad(matrix, 4)  # quiet zone
    fine = 10
    hi_res = np.where(np.kron(modules, np.ones((fine, fine), np.uint8)) > 0, 25, 235).astype(np.uint8)
    side = int(round(modules.shape[0] * module_px))
    code = cv2.resize(hi_res, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((FRAME_H, FRAME_W), 140, np.uint8)
    y, x = (FRAME_H - side) // 2, (FRAME_W - side) // 2
    frame[y : y + side, x : x + side] = code
    if rotation_deg:
        m = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), rotation_deg, 1.0)
        frame = cv2.warpAffine(frame, m, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR, borderValue=140)
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    noise = np.random.default_rng(seed).normal(0, 3, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def cluttered_frame(seed: int = 1) -> np.ndarray:
    """A 1280x720 BGR frame with shapes, text and noise but no code."""
    rng = np.random.default_rng(seed)
    frame = np.full((FRAME_H, FRAME_W, 3), 128, np.uint8)
    for i in range(150):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
        if i % 3 == 0:
            cv2.rectangle(frame, (x, y), (x + int(rng.integers(5, 200)), y + int(rng.integers(5, 200))), colour, -1)
        elif i % 3 == 1:
            cv2.circle(frame, (x, y), int(rng.integers(3, 80)), colour, -1)
        else:
            cv2.putText(
                frame, f"GATE {i} ticket", (x, y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.4, 2)), colour, 2
            )
    frame = cv2.add(frame, rng.integers(0, 20, frame.shape, dtype=np.uint8))
    return cv2.GaussianBlur(frame, (0, 0), 0.8)


def time_frame(frame: np.ndarray, runs: int = 60) -> tuple[float, float, list[str]]:
    texts = decode_frame(frame)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        decode_frame(frame)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), percentile(times, 95), texts


def run_frame_timing() -> None:
    payload = sample_payload(111)
    background = cluttered_frame()
    with_code = background.copy()
    code = cv2.cvtColor(render_code(payload, 4, 0.8)[200:520, 480:800], cv2.COLOR_GRAY2BGR)
    with_code[200:520, 480:800] = code
    print("decode_frame on a 1280x720 BGR frame:")
    for label, frame, expected in (
        ("one ticket code (111 chars, 4 px/module)", with_code, [payload]),
        ("no code (cluttered: escalation worst case)", background, []),
        ("no code (blank grey)", np.full((FRAME_H, FRAME_W, 3), 128, np.uint8), []),
    ):
        median, p95, texts = time_frame(frame)
        status = "ok" if texts == expected else f"UNEXPECTED {texts!r}"
        print(f"  {label:<44} median {median:6.2f} ms   p95 {p95:6.2f} ms   {status}")


def run_synthetic() -> None:
    print("Synthetic 1280x720 frames, QR level M, alphanumeric mode: '#' = decoded exactly, '.' = not")
    print("(blur = Gaussian sigma in pixels; light sensor noise added)")
    for length in (111, 34):
        payload = sample_payload(length)
        qr = segno.make_qr(payload, error="m", boost_error=False)
        print(
            f"\n{length}-char payload -> version {qr.version}-{qr.error}, {qr.symbol_size(border=0)[0]} modules, "
            f"mode {qr.mode}"
        )
        print(f"  {'px/module':>10} " + " ".join(f"{'blur ' + str(b):>7}" for b in BLURS) + "   code px   ms (blur 0)")
        for module_px in MODULE_SIZES:
            cells, ms0 = [], 0.0
            for blur in BLURS:
                frame = render_code(payload, module_px, blur)
                start = time.perf_counter()
                texts = decode_frame(frame)
                elapsed = (time.perf_counter() - start) * 1000
                if blur == 0:
                    ms0 = elapsed
                cells.append("#" if texts == [payload] else ".")
            size = int(round(qr.symbol_size(border=0)[0] * module_px))
            print(f"  {module_px:>10} " + " ".join(f"{c:>7}" for c in cells) + f"   {size:>7}   {ms0:6.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "qr-corpus")
    parser.add_argument("--synthetic", action="store_true", help="run the synthetic size/blur table instead")
    args = parser.parse_args(argv)
    if args.synthetic:
        run_synthetic()
        return 0
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    run_corpus(args.corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
