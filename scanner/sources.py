"""Interchangeable frame sources for the camera client: camera index, video file or folder of images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

__all__ = ["IMAGE_SUFFIXES", "Frame", "iter_image_files", "open_source"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
FOLDER_FPS = 10.0  # timestamps of a folder of images: index / FOLDER_FPS

Frame = tuple[int, float, np.ndarray]  # (frame index, timestamp in seconds, BGR frame)


def iter_image_files(directory: str | os.PathLike) -> list[Path]:
    """Image files of a directory (png, jpg, jpeg, bmp), sorted by name."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"not a directory: {directory}")
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: p.name,
    )


def open_source(spec: str) -> Iterator[Frame]:
    """Open a camera index ("0"), a video file or an image folder; raise ValueError if it cannot be opened."""
    spec = str(spec)
    if spec.isdigit():
        capture = cv2.VideoCapture(int(spec))
        if not capture.isOpened():
            raise ValueError(f"cannot open camera {spec}")
        return _iter_capture(capture, is_file=False)
    path = Path(spec)
    if path.is_dir():
        return _iter_folder(iter_image_files(path))
    if not path.is_file():
        raise ValueError(f"no such camera, video file or folder: {spec}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video file {spec}")
    return _iter_capture(capture, is_file=True)


def _iter_folder(files: list[Path]) -> Iterator[Frame]:
    index = 0
    for file in files:
        frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if frame is None:
            continue  # unreadable image: skip it
        yield index, index / FOLDER_FPS, frame
        index += 1


def _iter_capture(capture: cv2.VideoCapture, is_file: bool) -> Iterator[Frame]:
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            yield index, _timestamp(capture, index, fps, is_file), frame
            index += 1
    finally:
        capture.release()


def _timestamp(capture: cv2.VideoCapture, index: int, fps: float, is_file: bool) -> float:
    if is_file:
        msec = capture.get(cv2.CAP_PROP_POS_MSEC)
        if msec and msec > 0:
            return msec / 1000.0
        if fps > 0:
            return index / fps
    msec = capture.get(cv2.CAP_PROP_POS_MSEC)
    if msec and msec > 0:
        return msec / 1000.0
    return index / fps if fps > 0 else float(index)
