"""Decode-only mode: one JSON line per image of a folder, touching no database."""

from __future__ import annotations

import json
import os
import sys
from typing import TextIO

from scanner.decode import decode_file
from scanner.sources import iter_image_files


def run_decode_only(source_dir: str, out: TextIO = sys.stdout) -> int:
    """Print {"file": ..., "text": first decoded text or null} per image of source_dir; return 0."""
    for path in iter_image_files(source_dir):
        texts = decode_file(path)
        record = {"file": os.path.join(source_dir, path.name), "text": texts[0] if texts else None}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
