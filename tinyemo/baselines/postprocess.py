"""AVEC 2016 baseline post-processing of continuous predictions, chosen on the dev partition.

The AVEC 2016 baseline (Valstar et al., 2016) post-processed its regressors' outputs with steps
whose settings were picked on dev and each kept only if it raised dev CCC. Here, in order:

1. **delay compensation**: ``y'[t] = y[t − shift]`` per recording, edge-padded (the first or
   last prediction repeated). A positive shift delays the predictions, matching gold standards
   that lag the speech (annotators react 2–4 s late);
2. **median filtering** over ``median`` frames (odd), per recording, edges 'nearest';
3. **bias / scale correction**, one of ``"bias"`` (match the dev gold mean), ``"std"`` (match
   the dev gold mean and standard deviation) or ``"linear"`` (the least-squares line from
   predictions to gold on dev), as ``y' = a·y + b``.

:func:`fit_postprocess` chooses the steps greedily on dev predictions and gold (lists of (T,)
arrays, one per recording, scored over their concatenation as AVEC does): each step tries
its candidates on the output of the steps kept so far and is kept only if it raises dev CCC
by more than ``min_gain``. Shifts beyond a quarter and windows beyond half of the shortest
recording are not tried. :meth:`PostProcess.apply` then applies the same steps to any
predictions (test). The dev CCC after fitting is optimistic (chosen on dev); test is the fair
number.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from tinyemo.util.metrics import ccc

__all__ = ["PostProcess", "fit_postprocess", "shift_track", "SHIFTS", "MEDIAN_WINDOWS",
           "SCALINGS"]

SHIFTS = tuple(range(-50, 151, 5))
"""Delay candidates in frames (−2 s … +6 s at 40 ms): annotators lag by 2–4 s."""
MEDIAN_WINDOWS = (3, 5, 9, 15, 25, 51, 101, 151)
"""Median-filter widths in frames (0.12 s … 6 s)."""
SCALINGS = ("bias", "std", "linear")


def shift_track(y: np.ndarray, shift: int) -> np.ndarray:
    """(T,) ``y`` delayed by ``shift`` frames (advanced if negative), edges repeated."""
    y = np.asarray(y)
    n = len(y)
    if shift == 0 or n == 0:
        return y.copy()
    idx = np.clip(np.arange(n) - shift, 0, n - 1)
    return y[idx]


@dataclass(frozen=True)
class PostProcess:
    """Chosen steps: ``shift`` frames, ``median`` window (1: none), ``scaling`` ("none", "bias",
    "std", "linear") as ``a·y + b``; ``history`` records dev CCC before and after each step."""

    shift: int = 0
    median: int = 1
    scaling: str = "none"
    a: float = 1.0
    b: float = 0.0
    history: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.median < 1 or self.median % 2 == 0:
            raise ValueError(f"median window must be an odd number >= 1, got {self.median}")
        if self.scaling not in ("none",) + SCALINGS:
            raise ValueError(f"unknown scaling {self.scaling!r}; expected none or one of {SCALINGS}")

    @property
    def steps(self) -> list[str]:
        """The steps kept, in order of application, e.g. ``["shift 50", "median 5"]``."""
        out = [f"shift {self.shift}"] if self.shift else []
        out += [f"median {self.median}"] if self.median > 1 else []
        out += [f"{self.scaling} (a={self.a:.3g}, b={self.b:.3g})"] if self.scaling != "none" else []
        return out

    def apply_track(self, y: np.ndarray, stage: str = "all") -> np.ndarray:
        """One recording's (T,) predictions post-processed (float64). ``stage`` "shift" or
        "median" stops after that step (used while fitting)."""
        y = shift_track(np.asarray(y, np.float64), self.shift)
        if stage == "shift":
            return y
        if self.median > 1:
            y = median_filter(y, size=self.median, mode="nearest")
        if stage == "median":
            return y
        return self.a * y + self.b

    def apply(self, predictions):
        """Post-process a list of (T,) arrays (one per recording) or a single (T,) array."""
        if isinstance(predictions, np.ndarray) and predictions.ndim == 1:
            return self.apply_track(predictions)
        return [self.apply_track(p) for p in predictions]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PostProcess":
        return cls(**d)


def _scale_params(kind: str, pred: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(a, b) of ``a·pred + b`` for a scaling kind, fitted on concatenated dev tracks."""
    mp, mg, sp, sg = pred.mean(), gold.mean(), pred.std(), gold.std()
    if kind == "bias":
        return 1.0, float(mg - mp)
    if kind == "std":
        a = sg / sp if sp > 0 else 1.0
        return float(a), float(mg - a * mp)
    cov = np.mean((pred - mp) * (gold - mg))       # linear: least squares gold ≈ a·pred + b
    a = cov / sp**2 if sp > 0 else 0.0
    return float(a), float(mg - a * mp)


def fit_postprocess(dev_predictions, dev_gold, shifts=SHIFTS, medians=MEDIAN_WINDOWS,
                    scalings=SCALINGS, min_gain: float = 1e-4) -> PostProcess:
    """Choose delay, median window and scaling on dev (lists of (T,) arrays per recording, or
    one array each); a step is kept only if dev CCC rises by more than ``min_gain``."""
    if isinstance(dev_predictions, np.ndarray) and dev_predictions.ndim == 1:
        dev_predictions, dev_gold = [dev_predictions], [dev_gold]
    preds = [np.asarray(p, np.float64) for p in dev_predictions]
    gold = [np.asarray(g, np.float64) for g in dev_gold]
    if len(preds) != len(gold) or not preds:
        raise ValueError(f"need matching, non-empty lists (got {len(preds)} predictions and "
                         f"{len(gold)} gold tracks)")
    for i, (p, g) in enumerate(zip(preds, gold)):
        if p.shape != g.shape or p.ndim != 1:
            raise ValueError(f"recording {i}: prediction shape {p.shape} != gold shape {g.shape}")
    g_all = np.concatenate(gold)
    # a shift or window spanning much of a recording is no longer a filter: not tried
    shortest = min(len(g) for g in gold)
    shifts = [s for s in shifts if 4 * abs(s) <= shortest]
    medians = [w for w in medians if 2 * w <= shortest]

    def dev_ccc(pp: PostProcess, stage: str = "all") -> float:
        return ccc(np.concatenate([pp.apply_track(p, stage) for p in preds]), g_all)

    pp = PostProcess()
    history = {"none": dev_ccc(pp)}
    current = history["none"]
    # 1. delay compensation
    best = max(shifts, key=lambda s: dev_ccc(PostProcess(shift=s), "shift"), default=0)
    score = dev_ccc(PostProcess(shift=best), "shift")
    if score > current + min_gain:
        pp, current = PostProcess(shift=best), score
    history["shift"] = {"candidate": best, "ccc": score, "kept": pp.shift != 0}
    # 2. median filter
    best = max(medians, key=lambda w: dev_ccc(PostProcess(shift=pp.shift, median=w), "median"),
               default=1)
    score = dev_ccc(PostProcess(shift=pp.shift, median=best), "median")
    if score > current + min_gain:
        pp, current = PostProcess(shift=pp.shift, median=best), score
    history["median"] = {"candidate": best, "ccc": score, "kept": pp.median > 1}
    # 3. bias / scale correction, fitted on the output of the steps kept
    base = np.concatenate([pp.apply_track(p, "median") for p in preds])
    cands = {k: _scale_params(k, base, g_all) for k in scalings}
    scores = {k: ccc(a * base + b, g_all) for k, (a, b) in cands.items()}
    kind = max(scores, key=scores.get) if scores else "none"
    kept = kind != "none" and scores[kind] > current + min_gain
    if kept:
        a, b = cands[kind]
        pp, current = PostProcess(pp.shift, pp.median, kind, a, b), scores[kind]
    history["scaling"] = {"candidate": kind, "ccc": scores.get(kind, current), "kept": kept}
    history["final"] = current
    return PostProcess(pp.shift, pp.median, pp.scaling, pp.a, pp.b, history)
