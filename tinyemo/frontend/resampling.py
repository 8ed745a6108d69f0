"""``frontend.audio.resample`` (scipy's ``resample_poly``: polyphase, Kaiser window β = 5) on a
waveform that arrives in pieces, with the whole-signal result to float64 rounding.

Output sample m is Σ_j W[r, j] · x[i − j] with i = ⌊(m + pre) · down / up⌋, r its phase and W
scipy's filter rearranged by phase; samples outside the signal are zero, as scipy pads. An
output is returned as soon as the input samples it reads have arrived (≈ 10 input samples of
look-ahead at the lower rate); :meth:`ResampleStream.finish` returns the rest.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["ResampleStream"]

OUTPUTS_PER_STEP = 16384     # bounds the (outputs, taps) gather


class ResampleStream:
    def __init__(self, rate: int, target_rate: int):
        from scipy.signal import firwin  # scipy loads on first use: import tinyemo stays light

        g = math.gcd(int(rate), int(target_rate))
        self.up, self.down = int(target_rate) // g, int(rate) // g
        up, down = self.up, self.down
        max_rate = max(up, down)
        half_len = 10 * max_rate                          # scipy's filter design, verbatim
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * up
        n_pre_pad = down - half_len % down
        self.pre = (half_len + n_pre_pad) // down         # scipy's n_pre_remove
        h = np.concatenate([np.zeros(n_pre_pad), h])
        self.taps = -(-h.size // up)
        table = np.zeros(self.taps * up)
        table[:h.size] = h
        self.table = table.reshape(self.taps, up).T.copy()   # (up, taps): W[r, j] = h[r + j·up]
        self.received = 0          # input samples pushed
        self.emitted = 0           # output samples returned
        self._buf = np.zeros(0)    # inputs from self._start on
        self._start = 0

    def push(self, samples) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float64)
        self._buf = np.concatenate([self._buf, x])
        self.received += x.size
        # output m reads inputs up to ⌊(m + pre) · down / up⌋: final once that one is in
        ready = (self.received * self.up - 1) // self.down - self.pre + 1 if self.received else 0
        return self._outputs(ready)

    def finish(self) -> np.ndarray:
        """The remaining outputs: ⌈n · up / down⌉ in all, as scipy returns."""
        total = -(-self.received * self.up // self.down)
        return self._outputs(total)

    def _outputs(self, stop: int) -> np.ndarray:
        parts = []
        while self.emitted < stop:
            m = np.arange(self.emitted, min(stop, self.emitted + OUTPUTS_PER_STEP))
            k = (m + self.pre) * self.down
            i = (k // self.up)[:, None] - np.arange(self.taps)[None, :]     # (n, taps)
            weights = self.table[k % self.up]                               # (n, taps)
            local = i - self._start
            valid = (i >= 0) & (i < self.received)
            x = np.where(valid, self._buf[np.clip(local, 0, max(self._buf.size - 1, 0))]
                         if self._buf.size else 0.0, 0.0)
            parts.append(np.einsum("nt,nt->n", weights, x))
            self.emitted = int(m[-1]) + 1
        # keep the inputs the next output reads: from ⌊(emitted + pre)·down/up⌋ − taps + 1
        keep = max(0, ((self.emitted + self.pre) * self.down) // self.up - self.taps + 1)
        if keep > self._start:
            self._buf = self._buf[keep - self._start:]
            self._start = keep
        return np.concatenate(parts) if parts else np.zeros(0)
