"""The verdict sound: one high beep to admit, two when the concession ID must be checked, three low ones to
refuse. The beeps are generated WAV data (16-bit mono) played by paplay (PulseAudio/PipeWire) or aplay
(ALSA, Debian's alsa-utils) without waiting for it to finish; where neither is installed, the terminal
bell as many times. Best effort: a gate without speakers scans all the same."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from collections.abc import Sequence
from typing import Any

import numpy as np

RATE = 16000  # samples per second
BEEP_SECONDS, GAP_SECONDS = 0.12, 0.08
TONES = {"admit": (880, 1), "check": (880, 2), "refuse": (330, 3)}  # name: (Hz, beeps)
PLAYERS = (("paplay",), ("aplay", "-q"))  # each reads the WAV from its standard input


def tone(frequency: int, beeps: int) -> bytes:
    """A WAV file: `beeps` beeps of `frequency` Hz, each followed by a short silence, faded in and out."""
    t = np.arange(int(RATE * BEEP_SECONDS)) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms ramps: no clicks
    beep = 0.4 * np.sin(2 * np.pi * frequency * t) * fade
    gap = np.zeros(int(RATE * GAP_SECONDS))
    samples = np.concatenate([beep, gap] * beeps)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


def tone_for(verdict: dict[str, Any]) -> str:
    if verdict["status"] != "ok":
        return "refuse"
    return "check" if verdict["attention"] else "admit"


def find_player() -> tuple[str, ...] | None:
    return next((command for command in PLAYERS if shutil.which(command[0])), None)


class Sound:
    def __init__(self, player: Sequence[str] | None = None) -> None:
        """`player`: the command that plays a WAV from its standard input (default: the first of PLAYERS
        installed; none: the terminal bell)."""
        self.player = tuple(player) if player is not None else find_player()
        self.wavs = {name: tone(*spec) for name, spec in TONES.items()}

    def play(self, verdict: dict[str, Any]) -> subprocess.Popen | None:
        """Start the verdict's sound; returns the player's process (None for the bell or a player that failed)."""
        name = tone_for(verdict)
        if not self.player:
            sys.stderr.write("\a" * TONES[name][1])
            sys.stderr.flush()
            return None
        try:
            process = subprocess.Popen(
                self.player, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            with process.stdin:  # the whole WAV (under 20 kB) fits in the pipe's buffer: this does not block
                process.stdin.write(self.wavs[name])
        except OSError:  # no sound card, a player that quit at once: the verdict on screen is what counts
            return None
        return process
