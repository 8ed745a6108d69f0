"""Test signals the descriptor tests and ``scripts/descriptor_blocks.py`` share: real speech
tiled to any length, and a voice that never stops."""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from tinyemo.frontend import read_audio

from tests.helpers import SPEECH

RATE = 16000
CLIPS = ("sense_and_sensibility_01_austen_64kb-0880.wav", "arctic_a0007.wav", "goforward.wav")


def tiled_speech(seconds: float, rate: int = RATE) -> np.ndarray:
    """The three clips of tests/testdata/speech, one after another, tiled to ``seconds``, with a
    little noise (seeded) so that the tiles differ."""
    x = np.concatenate([read_audio(SPEECH / name, sample_rate=rate)[0] for name in CLIPS])
    x = np.tile(x, int(np.ceil(seconds * rate / x.size)))[:int(seconds * rate)]
    return x + np.random.default_rng(0).normal(0.0, 3.0, x.size)


def voiced(seconds: float, rate: int = RATE) -> np.ndarray:
    """A voice that never stops: glottal pulses at a wandering F0 (130 ± 30 Hz) with period
    jitter, through three formants (700, 1200, 2600 Hz), in int16 scale, seeded."""
    rng = np.random.default_rng(1)
    t, pulses = 0.0, []
    while t < seconds:
        t += (1 + 0.01 * rng.standard_normal()) / (130 + 30 * np.sin(2 * np.pi * 0.3 * t))
        pulses.append(t)
    x = np.zeros(int(seconds * rate))
    at = (np.array(pulses) * rate).astype(int)
    at = at[at < x.size]
    x[at] = 1.0 + 0.05 * rng.standard_normal(at.size)
    for f, bw in [(700, 100), (1200, 120), (2600, 200)]:
        r, th = np.exp(-np.pi * bw / rate), 2 * np.pi * f / rate
        x = lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], x)
    return x / np.abs(x).max() * 8000 + rng.normal(0.0, 3.0, x.size)
