"""The gate client's verdict sound (issue 4): generated WAV beeps, played by a real player (aplay on ALSA's
null device, so no sound card is needed), and the terminal bell where no player is installed."""

from __future__ import annotations

import io
import shutil
import wave

import numpy as np
import pytest

from scanner.sound import RATE, TONES, Sound, tone
from tests.conftest import IN_CI

ADMIT = {"status": "ok", "attention": False}
CHECK = {"status": "ok", "attention": True}
REFUSE = {"status": "revoked", "attention": False}


def samples(wav_bytes: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(float)


@pytest.mark.parametrize(("frequency", "beeps"), sorted(TONES.values()))
def test_tones_are_wav_beeps_of_their_pitch(frequency, beeps):
    audio = samples(tone(frequency, beeps))
    loud = np.convolve(np.abs(audio), np.ones(80) / 80, "same") > 1000  # 5 ms loudness envelope
    assert np.count_nonzero(np.diff(loud.astype(int)) == 1) == beeps
    assert len(audio) / RATE == pytest.approx(0.2 * beeps, abs=0.01)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.fft.rfftfreq(len(audio), 1 / RATE)[spectrum.argmax()] == pytest.approx(frequency, abs=10)
    assert np.abs(audio).max() < 32767 * 0.5  # not clipped, not deafening


def test_a_real_player_plays_each_verdicts_sound():
    if shutil.which("aplay") is None:
        reason = "aplay is not installed (Debian's alsa-utils; scripts/setup installs it as root)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    sound = Sound(("aplay", "-q", "-D", "null"))  # ALSA's null device: a real playback without a sound card
    for verdict in (ADMIT, CHECK, REFUSE):
        process = sound.play(verdict)
        assert process is not None and process.wait(10) == 0


def test_without_a_player_the_terminal_bell_rings_once_twice_or_three_times(capsys):
    sound = Sound(())
    for verdict in (ADMIT, CHECK, REFUSE):
        assert sound.play(verdict) is None
    assert capsys.readouterr().err == "\a" + "\a\a" + "\a\a\a"
