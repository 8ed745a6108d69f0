"""Kaldi ``compute-fbank-feats`` on a waveform that arrives in pieces.

:class:`FbankStream` returns each frame as soon as its last sample has arrived and gives,
concatenated over any split of the waveform, exactly the frames of :func:`fbank` on the whole:
frames straddling the pieces' edges are computed from the kept tail, the dither generator
draws in the same order, and with ``snip_edges=False`` the reflected edges are built as Kaldi
builds them (the last frames wait for :meth:`FbankStream.finish`, which knows the length).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from tinyemo.frontend.filterbank import check_samples, fbank, frame_geometry, num_frames
from tinyemo.frontend.options import FbankOptions

__all__ = ["FbankStream"]


class FbankStream:
    """Incremental :func:`fbank` of one waveform at ``sample_rate`` Hz.

    ``push(samples)`` (on the int16 scale, any length, even 0) returns the (n, D) float32 frames
    that became complete; ``finish()`` returns the rest (edge frames with ``snip_edges=False``)
    and raises ValueError naming ``name`` when the whole waveform was shorter than one frame.
    Memory: the samples of one frame plus the latest piece.
    """

    def __init__(self, sample_rate: float, options: FbankOptions | None = None,
                 name: str = "waveform"):
        self.options = options if options is not None else FbankOptions()
        self.sample_rate = sample_rate
        self.name = name
        self.size, self.shift, _ = frame_geometry(sample_rate, self.options)
        # Frame i covers virtual samples i·shift … i·shift + size − 1, where virtual sample u
        # is waveform sample u + first (Kaldi's centring with snip_edges=False reflects the
        # waveform's edges: sample −1 is sample 0, sample N is sample N − 1).
        self.first = 0 if self.options.snip_edges else self.shift // 2 - self.size // 2
        self._snipped = dataclasses.replace(self.options, snip_edges=True)
        self._rng = (np.random.default_rng(self.options.seed) if self.options.dither != 0.0
                     else None)
        self._head = np.empty(0, np.float32)     # samples kept until the left reflection is known
        self._virtual = np.empty(0, np.float32)  # virtual samples from frame self.frames on
        self._started = self.first == 0
        self._skip = max(self.first, 0)          # waveform samples before virtual sample 0
        self.samples = 0                          # waveform samples pushed
        self.frames = 0                           # frames returned
        self._tail = np.empty(0, np.float32)      # the last `size` waveform samples
        self._finished = False

    @property
    def num_dims(self) -> int:
        return self.options.num_mel_bins + (1 if self.options.use_energy else 0)

    def push(self, samples) -> np.ndarray:
        if self._finished:
            raise ValueError(f"{self.name}: push after finish")
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"{self.name}: samples must be 1-D, got shape {x.shape}")
        check_samples(x, self.name, first=self.samples)
        x = x.astype(np.float32)   # fbank computes in float32 too
        self.samples += x.size
        self._tail = np.concatenate([self._tail, x])[-self.size:]
        if not self._started:
            if self.first < 0:
                self._head = np.concatenate([self._head, x])
                need = -self.first
                if self._head.size < need:
                    return self._empty()
                x = np.concatenate([self._head[need - 1::-1], self._head])
                self._head = np.empty(0, np.float32)
            else:
                drop = min(self._skip, x.size)
                self._skip -= drop
                x = x[drop:]
                if self._skip:
                    return self._empty()
            self._started = True
        self._virtual = np.concatenate([self._virtual, x])
        return self._frames(self._virtual.size)

    def finish(self) -> np.ndarray:
        """The remaining frames; afterwards :attr:`frames` is Kaldi's frame count."""
        if self._finished:
            return self._empty()
        self._finished = True
        total = num_frames(self.samples, self.size, self.shift, self.options.snip_edges)
        if self.samples < self.size or total == 0:
            raise ValueError(
                f"{self.name}: audio is shorter than one frame ({self.samples} samples = "
                f"{self.samples / self.sample_rate:.4f} s < frame_length "
                f"{self.options.frame_length} ms = {self.size} samples)")
        if self.options.snip_edges or total == self.frames:
            return self._empty()
        # Right edge: virtual samples past the waveform's end reflect its last samples.
        end = (total - 1) * self.shift + self.size + self.first   # waveform index of the end
        extra = end - self.samples
        if extra > 0:
            self._virtual = np.concatenate([self._virtual, self._tail[::-1][:extra]])
        return self._frames(self._virtual.size, limit=total)

    def _frames(self, available: int, limit: int | None = None) -> np.ndarray:
        """Frames whose virtual samples are all in ``self._virtual`` (which starts at frame
        ``self.frames``), at most up to frame ``limit``."""
        n = 0 if available < self.size else 1 + (available - self.size) // self.shift
        if limit is not None:
            n = min(n, limit - self.frames)
        if n <= 0:
            return self._empty()
        span = (n - 1) * self.shift + self.size
        out = fbank(self._virtual[:span], self.sample_rate, options=self._snipped,
                    rng=self._rng, name=self.name)
        self.frames += n
        self._virtual = self._virtual[n * self.shift:]
        return out

    def _empty(self) -> np.ndarray:
        return np.empty((0, self.num_dims), np.float32)
