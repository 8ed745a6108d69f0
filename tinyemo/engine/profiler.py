"""Where the time goes: every op's forward and backward, gradient accumulation and the
optimizer step timed while a :func:`profile` is open (the engine's timer hook,
``autograd.set_timer``; closed, it costs one test per op).

    with profile() as prof:
        epoch()
    prof.table()        # time and share per op and phase

Each record is (label, seconds, input shapes, output shape, which inputs get a gradient):
``Conv1dFn.forward``, ``Conv1dFn.backward``, ``Adam.step`` …; the shapes let a caller count
FLOPs (the conv layers' GFLOP/s in ``bench/profile_epoch.py``). Times are wall-clock around the call, kernels and
Python included; on CUDA, where launches return before the work ends, they measure launches
only unless the caller synchronises.
"""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from tinyemo.engine.autograd import Function, set_timer

__all__ = ["Record", "Profile", "profile"]


@dataclass(frozen=True)
class Record:
    label: str
    seconds: float
    inputs: tuple       # shapes of the op's inputs (its parents' for a backward), None for absent
    output: tuple       # shape of the result (the upstream gradient's for a backward)
    grads: tuple = ()   # a backward: for each input, whether it gets a gradient


def _shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else None


@dataclass
class Profile:
    records: list[Record] = field(default_factory=list)

    def _time(self, label, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds = time.perf_counter() - start
        ctx = getattr(fn, "__self__", None)
        grads = ()
        if isinstance(ctx, Function):          # a backward: (grad,) → the forward's shapes
            inputs = tuple(_shape(p) for p in ctx.parents)
            output = _shape(args[0])
            grads = tuple(p is not None and p.requires_grad for p in ctx.parents)
        else:
            arrays = args[1:] if args and isinstance(args[0], Function) else args
            inputs, output = tuple(_shape(a) for a in arrays), _shape(out)
        self.records.append(Record(label, seconds, inputs, output, grads))
        return out

    def totals(self) -> dict[str, tuple[float, int]]:
        """label → (seconds, calls), largest first."""
        sums: dict[str, list] = defaultdict(lambda: [0.0, 0])
        for r in self.records:
            sums[r.label][0] += r.seconds
            sums[r.label][1] += 1
        return dict(sorted(((k, (v[0], v[1])) for k, v in sums.items()),
                           key=lambda kv: -kv[1][0]))

    def table(self, total: float | None = None) -> str:
        """A Markdown table: label, calls, ms, share of ``total`` seconds (default: the sum
        of the records)."""
        totals = self.totals()
        total = total or sum(s for s, _ in totals.values())
        rows = ["| op | calls | ms | share |", "|---|---:|---:|---:|"]
        for label, (seconds, calls) in totals.items():
            rows.append(f"| {label} | {calls} | {seconds * 1e3:.1f} | {seconds / total:.0%} |")
        return "\n".join(rows)


@contextmanager
def profile() -> Iterator[Profile]:
    """Record every op while the block runs (not reentrant: an inner profile replaces the
    outer one until it closes)."""
    prof = Profile()
    previous = set_timer(prof._time)
    try:
        yield prof
    finally:
        set_timer(previous)
