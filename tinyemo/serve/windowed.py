"""The nets on overlapping windows: a sequence of model inputs that arrives in pieces (or is
too long to hold) predicted window by window, each output exactly as the whole sequence
gives it.

Output frame t reads input frames t − left … t + right (``models.context``); the down/up net
also depends on where frames fall in its pooling grid (pool**depth frames) and on the zeros
it pads the sequence with up to a multiple of that grid. So every window starts on a multiple
of the grid, reaches ``left`` frames before its first output (or the sequence's start) and
``right`` frames past its last (or the sequence's end, where it pads as the whole sequence
does). An output is *final* once ``right`` frames after it have arrived.
"""
from __future__ import annotations

import math

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.engine.nn import Conv1d, ConvTranspose1d, Module
from tinyemo.frontend.features import FRAME_S
from tinyemo.frontend.filterbank import frame_geometry
from tinyemo.frontend.options import FbankOptions
from tinyemo.models.config import ARCHITECTURES, ModelConfig
from tinyemo.models.context import Context, context
from tinyemo.models.nets import build_model
from tinyemo.models.stacked import stack_seeds

__all__ = ["FrameStacker", "WindowedEnsemble", "ensemble_context", "latency_seconds",
           "default_latencies", "MAX_WINDOW"]

MAX_WINDOW = 8192    # outputs per window (5.5 min at 40 ms): bounds memory; overlap 6 % (down/up) to 12 % (dilated)


def ensemble_context(models: dict[str, list[Module]]) -> Context:
    """The widest context of any model and a grid every model's grid divides (the seeds of a
    target share its architecture: the first one speaks for them)."""
    ctxs = [context(runs[0]) for runs in models.values()]
    grid = 1
    for c in ctxs:
        grid = grid * c.grid // math.gcd(grid, c.grid)
    return Context(max(c.left for c in ctxs), max(c.right for c in ctxs), grid)


def latency_seconds(ctx: Context, sample_rate: float, options: FbankOptions,
                    stack: int = 4) -> float:
    """Seconds from an output's time stamp until it is final: the model's right context plus
    the front end's look-ahead (the last sample of the row's last frame); ``inf`` for an
    unbounded context."""
    size, shift, _ = frame_geometry(sample_rate, options)
    first = 0 if options.snip_edges else shift // 2 - size // 2
    return ctx.right * FRAME_S + (first + (stack - 1) * shift + size) / sample_rate


def default_latencies(sample_rate: int = 16000) -> dict[str, float]:
    """Streaming latency (s) of each architecture with the paper's defaults (both targets)."""
    out = {}
    for arch in ARCHITECTURES:
        ctxs = [context(build_model(ModelConfig.for_arch(arch, t))) for t in ("arousal", "valence")]
        out[arch] = max(latency_seconds(c, sample_rate, FbankOptions()) for c in ctxs)
    return out


class FrameStacker:
    """``stack_frames`` then ``align_to_labels`` on frames that arrive in pieces: rows of
    ``n`` consecutive frames, the last group completed by repeating the last frame, then the
    last row repeated (or rows dropped) to ``n_labels`` rows at :meth:`finish`."""

    def __init__(self, n: int = 4):
        self.n = n
        self.rows = 0                              # rows returned
        self._pending: np.ndarray | None = None    # frames of rows not returned yet
        self._last: np.ndarray | None = None       # the last row returned

    def push(self, frames: np.ndarray, limit: int) -> np.ndarray:
        """Complete rows, at most up to row ``limit`` (a lower bound on the label count, so
        no row that alignment would drop is ever returned)."""
        frames = np.asarray(frames, dtype=np.float32)
        pending = frames if self._pending is None else np.concatenate([self._pending, frames])
        rows = min(pending.shape[0] // self.n, max(limit - self.rows, 0))
        out = pending[:rows * self.n].reshape(rows, pending.shape[1] * self.n)
        self._pending = pending[rows * self.n:]
        return self._returned(out)

    def finish(self, n_labels: int) -> np.ndarray:
        """The remaining rows up to ``n_labels`` rows in all."""
        pending = self._pending
        if pending is None or (pending.shape[0] == 0 and self._last is None):
            raise ValueError("no frames to stack")
        self._pending = None
        if pending.shape[0] % self.n:
            pending = np.concatenate([pending, np.repeat(pending[-1:], -pending.shape[0] % self.n,
                                                         axis=0)])
        out = pending.reshape(-1, pending.shape[1] * self.n)
        missing = n_labels - self.rows - out.shape[0]
        if missing > 0:
            last = out[-1:] if out.shape[0] else self._last
            out = np.concatenate([out, np.repeat(last, missing, axis=0)])
        return self._returned(out[:max(n_labels - self.rows, 0)])

    def _returned(self, out: np.ndarray) -> np.ndarray:
        if out.shape[0]:
            self.rows += out.shape[0]
            self._last = out[-1:].copy()
        return out


# The widest stacked net (seeds × a seed's widest conv) whose one pass over windows beats the
# seeds one after another: bench/bench_ensemble.py, 5 seeds, 10 min, quiet 2-core machine:
# down/up width 32 (160 wide) 1.38x at 1 thread, 1.30x at 2; width 128 (640) 0.87x at both.
STACK_CHANNELS = 256


def stacking_pays(runs: list[Module]) -> bool:
    """Whether a target's seeds run faster over windows stacked into one net (see
    ``STACK_CHANNELS``)."""
    widest = max((m.weight.shape[0] for m in runs[0].modules()
                  if isinstance(m, (Conv1d, ConvTranspose1d))), default=0)
    return len(runs) * widest <= STACK_CHANNELS


class WindowedEnsemble:
    """Every target's models (predictions averaged over seeds) run on windows of (T, C) rows
    pushed in pieces; see the module docstring. ``hop``: run the nets only once this many
    outputs are final (1: as soon as one is; larger: fewer, longer windows).
    ``max_window``: at most this many outputs per window. ``stack``: run each target's seeds in
    one pass, stacked into one grouped net (``models.stacked``); False: one after another;
    "auto" (the default): stacked where that was measured faster, when the stacked net is at
    most ``STACK_CHANNELS`` wide (``stacking_pays``)."""

    def __init__(self, models: dict[str, list[Module]], device: str = "cpu", hop: int = 1,
                 max_window: int = MAX_WINDOW, stack: bool | str = "auto"):
        if hop < 1 or max_window < 1:
            raise ValueError(f"hop and max_window must be >= 1, got {hop} and {max_window}")
        self.models, self.device = models, device
        self._stacked = {t: stack_seeds(runs) if stack is True or (stack == "auto" and
                                                                   stacking_pays(runs)) else None
                         for t, runs in models.items()}
        self.ctx = ensemble_context(models)
        self.finite = math.isfinite(self.ctx.left) and math.isfinite(self.ctx.right)
        self.hop, self.max_window = hop, max_window
        self.total = 0            # rows received
        self.done = 0             # outputs returned
        self._buf: np.ndarray | None = None   # rows from self._start on, (n, C)
        self._start = 0

    def push(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.asarray(rows, dtype=np.float32)
        if rows.shape[0]:
            self._buf = rows.copy() if self._buf is None else np.concatenate([self._buf, rows])
            self.total += rows.shape[0]
        final = self.total - self.ctx.right if self.finite else 0
        if final - self.done >= self.hop:   # whole hops only: no sliver windows in between
            return self._run(self.done + (final - self.done) // self.hop * self.hop, at_end=False)
        return self._empty()

    def finish(self) -> dict[str, np.ndarray]:
        return self._run(self.total, at_end=True)

    def _run(self, upto: int, at_end: bool) -> dict[str, np.ndarray]:
        out = {t: [] for t in self.models}
        while self.done < upto:
            if self.finite:
                stop = min(upto, self.done + self.max_window)
                start = max(0, (self.done - self.ctx.left) // self.ctx.grid * self.ctx.grid)
                end = min(stop + self.ctx.right, self.total)
            else:   # unbounded context (a recurrent net): one window, the whole sequence
                stop, start, end = upto, 0, self.total
            x = np.ascontiguousarray(self._buf[start - self._start:end - self._start].T)
            xt = Tensor(backend.to_device(x, self.device))
            with no_grad():
                for target, runs in self.models.items():
                    stacked = self._stacked[target]
                    per_run = (list(stacked(xt).numpy()) if stacked is not None
                               else [m(xt).numpy().reshape(-1) for m in runs])
                    out[target].append(np.mean([r[self.done - start:stop - start]
                                                for r in per_run], axis=0))
            self.done = stop
        if self.finite and self._buf is not None:   # keep what the next window reads
            keep = max(0, (self.done - self.ctx.left) // self.ctx.grid * self.ctx.grid)
            if keep > self._start:
                self._buf = self._buf[keep - self._start:].copy()
                self._start = keep
        return {t: (np.concatenate(v) if v else np.empty(0, np.float32)) for t, v in out.items()}

    def _empty(self) -> dict[str, np.ndarray]:
        return {t: np.empty(0, np.float32) for t in self.models}
