"""Speaker profiles: the mean and standard deviation of a speaker's 10-ms log-mel frames, the
statistics tinyemo z-normalises with (``frontend.speaker_statistics``), saved to a file so a
stream can be normalised before the speaker has finished talking.

A profile comes from enrolment audio (``tinyemo profile --model RUN a.wav b.wav --out P.npz``)
or from the model's training corpus (``--from-training``: every training recording pooled).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyemo.data import load_corpus
from tinyemo.frontend.blocks import BLOCK_SAMPLES, audio_blocks, audio_info, resampled_blocks
from tinyemo.frontend.fbank_stream import FbankStream
from tinyemo.frontend.features import MIN_STD
from tinyemo.util.fileio import save_npz
from tinyemo.util.notices import warn

__all__ = ["Moments", "Profile", "profile_of_files", "training_profile", "MIN_PROFILE_FRAMES"]

MIN_PROFILE_FRAMES = 500      # 5 s of 10-ms frames: fewer give unreliable statistics


class Moments:
    """Count, mean and sum of squared deviations of (n, D) frames added block by block, in
    float64, merged with Chan et al.'s pairwise update (each block two-pass), so the result is
    the two-pass statistics of all frames to rounding, whatever the blocks."""

    def __init__(self):
        self.count = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None

    def add(self, frames: np.ndarray) -> None:
        x = np.asarray(frames, dtype=np.float64)
        n = x.shape[0]
        if n == 0:
            return
        mean = x.sum(axis=0) / n
        d = x - mean
        m2 = np.einsum("td,td->d", d, d)
        if self.count == 0:
            self.count, self.mean, self.m2 = n, mean, m2
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta * delta * (self.count * n / total)
        self.count = total

    def std(self) -> np.ndarray:
        """Population standard deviation, dimensions below MIN_STD set to 1 (only centred)."""
        std = np.sqrt(self.m2 / self.count)
        return np.where(std < MIN_STD, 1.0, std)


@dataclass(frozen=True)
class Profile:
    """Normalisation statistics of one speaker: ``mean`` and ``std`` (D,) float64 over
    ``frames`` 10-ms log-mel frames computed at ``sample_rate`` Hz with ``fbank`` options."""

    mean: np.ndarray
    std: np.ndarray
    frames: int
    sample_rate: int
    fbank: dict
    source: str = ""

    @classmethod
    def from_moments(cls, moments: Moments, sample_rate: int, fbank: dict,
                     source: str = "") -> "Profile":
        if moments.count == 0:
            raise ValueError(f"{source or 'profile'}: no frames to take statistics from")
        return cls(moments.mean.copy(), moments.std(), moments.count, int(sample_rate),
                   dict(fbank), source)

    def warn_if_short(self, where: str) -> None:
        """A warning when the statistics come from under :data:`MIN_PROFILE_FRAMES` frames."""
        if self.frames < MIN_PROFILE_FRAMES:
            warn(f"{where}: a speaker profile of only {self.frames} frame(s) "
                 f"({self.frames / 100:g} s): its statistics are unreliable (a dimension that "
                 f"did not vary gets std 1); enrol with at least {MIN_PROFILE_FRAMES // 100} s "
                 "of the speaker")

    def normalise(self, frames: np.ndarray) -> np.ndarray:
        """(n, D) → (n, D) float32, ``(x − mean) / std`` in float64 as the pipeline does."""
        return ((np.asarray(frames, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def save(self, path: Path) -> None:
        meta = {"frames": self.frames, "sample_rate": self.sample_rate, "fbank": self.fbank,
                "source": self.source, "format": "tinyemo-profile-1"}
        save_npz(path, mean=self.mean, std=self.std,
                 meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> "Profile":
        """ValueError naming ``path`` when it is missing or not a profile; a warning when it
        holds too few frames to trust."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                mean, std, meta = data["mean"], data["std"], data["meta"]
            meta = json.loads(meta.tobytes().decode())
            frames, rate, fbank = int(meta["frames"]), int(meta["sample_rate"]), dict(meta["fbank"])
        except FileNotFoundError:
            raise ValueError(f"{path}: no such profile") from None
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: not a tinyemo speaker profile ({exc})") from None
        if mean.shape != std.shape or mean.ndim != 1 or not np.all(std > 0):
            raise ValueError(f"{path}: corrupt speaker profile (mean {mean.shape}, std {std.shape})")
        profile = cls(mean.astype(np.float64), std.astype(np.float64), frames, rate, fbank,
                      meta.get("source", ""))
        profile.warn_if_short(str(path))
        return profile


def profile_of_files(paths: list[Path], options, sample_rate: int | None = None,
                     block_samples: int | None = None, source: str = "") -> Profile:
    """The profile of every 10-ms frame of ``paths`` pooled (one speaker), each file read block
    by block and resampled to ``sample_rate`` (default: the first file's rate) when its own
    differs. ValueError naming a file that is unreadable or shorter than a frame."""
    if not paths:
        raise ValueError("a profile needs at least one audio file")
    rates = {Path(p): audio_info(p)[0] for p in paths}      # every header before any work
    rate = int(sample_rate or rates[Path(paths[0])])
    moments = Moments()
    for path in paths:
        stream = FbankStream(rate, options, name=str(path))
        blocks = audio_blocks(path, block_samples or BLOCK_SAMPLES)
        for block in resampled_blocks(blocks, rates[Path(path)], rate):
            moments.add(stream.push(block))
        moments.add(stream.finish())
    return Profile.from_moments(moments, rate, options.to_dict(),
                                source=source or ", ".join(str(p) for p in paths))


def training_profile(config: dict, options, sample_rate: int | None = None) -> Profile:
    """The profile of a model's training partition (all its speakers pooled), read from the
    corpus the model folder's ``config.json`` names; ValueError if it is not on disk."""
    root = config.get("data", {}).get("root")
    if not root:
        raise ValueError("the model folder does not say where its training corpus is")
    try:
        corpus = load_corpus(Path(root))
    except (ValueError, OSError) as exc:
        raise ValueError(f"training corpus {root}: {exc}") from None
    paths = [rec.audio for rec in corpus if rec.partition == "train"]
    if not paths:
        raise ValueError(f"training corpus {root}: no recordings in its train partition")
    return profile_of_files(paths, options, sample_rate, source=f"train partition of {root}")
