"""Speaker-disjoint folds of train + dev for cross-validated selection (``--selection-folds K``):
on a corpus whose dev partition is small, each setting is judged on every train and dev
recording rather than on the dev ones alone. Test is never among them.

Speakers are shuffled (seeded) and each, largest first, goes to the fold with the fewest frames
so far, so the folds hold about as much speech each and no speaker is in two folds.
"""
from __future__ import annotations

import numpy as np

from tinyemo.data.examples import Example

__all__ = ["speaker_folds", "fold_data"]


def speaker_folds(examples: list[Example], k: int, seed: int) -> list[list[str]]:
    """``k`` lists of recording ids (train and dev ``examples``), speaker-disjoint."""
    frames: dict[str, int] = {}
    for ex in examples:
        frames[ex.recording.speaker] = frames.get(ex.recording.speaker, 0) + ex.x.shape[1]
    if k < 2 or k > len(frames):
        raise ValueError(f"--selection-folds {k}: train and dev hold {len(frames)} speakers; "
                         f"give between 2 and {len(frames)} folds")
    order = [str(s) for s in np.random.default_rng(seed).permutation(sorted(frames))]
    order.sort(key=lambda s: -frames[s])                       # stable: ties stay shuffled
    folds: list[list[str]] = [[] for _ in range(k)]
    size = [0] * k
    for speaker in order:
        i = min(range(k), key=lambda j: (size[j], j))
        folds[i].append(speaker)
        size[i] += frames[speaker]
    return [[ex.recording.id for ex in examples if ex.recording.speaker in set(f)] for f in folds]


def fold_data(examples: list[Example], folds: list[list[str]]) -> tuple:
    """Per fold, (the other folds' examples, the fold's examples): what a trial trains and
    scores on."""
    return tuple((tuple(ex for ex in examples if ex.recording.id not in set(held)),
                  tuple(ex for ex in examples if ex.recording.id in set(held)))
                 for held in folds)
