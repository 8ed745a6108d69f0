"""The synthetic speech-emotion corpus: tinyemo's embedded default data, in the AVEC 2016 layout.

``generate(out_dir, preset, seed)`` writes, deterministically from ``seed``::

    recordings_audio/{train,dev,test}_N.wav        16 kHz, 16-bit PCM, speech-like audio
    ratings_gold_standard/{arousal,valence}/*.arff  mean of the simulated annotators, 40 ms grid
    ratings_individual/{arousal,valence}/*.csv      each annotator (';'-separated)
    latents.npz                                     "<id>.<target>": (T,) float32 latent, 40 ms grid
    metadata.json                                   parameters, speakers, label statistics (written last)

Each recording draws a speaker, slow latent arousal and valence trajectories
(:mod:`.latents`), speech whose prosody follows them (:mod:`.speech`), and annotators who
follow them 2–4 s late; the six annotators are the same people for every recording. Recording
``i`` (train, then dev, then test) depends only on ``(seed, i, duration_s)`` and the models,
not on how many recordings there are.
Unlike RECOLA, the test partition is labelled.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from tinyemo.data.avec2016 import (
    AUDIO_DIR, GOLD_DIR, INDIVIDUAL_DIR, write_arff, write_individual_ratings,
)
from tinyemo.data.grid import FRAME_S
from tinyemo.data.latents import (
    LabelModel, annotate, draw_annotators, label_statistics, latent_track,
)
from tinyemo.data.speech import SAMPLE_RATE, CueModel, draw_speaker, synthesize
from tinyemo.util.fileio import atomic_write, cache_root, save_npz, write_json

__all__ = ["SynthConfig", "PRESETS", "RECOLA_LABEL_STATS", "generate", "default_corpus",
           "default_corpus_path", "generator_fingerprint"]

GENERATOR_VERSION = 2  # 2: labels calibrated to RECOLA's fine structure (spline rebuild, ACF)
# The modules whose code decides a corpus's contents; their source is part of the cache key.
GENERATOR_SOURCES = ("synthetic.py", "latents.py", "speech.py", "avec2016.py", "grid.py")

# Calibrated so that the gold standard looks like RECOLA's (RECOLA_LABEL_STATS) at RECOLA's size
# (preset "recola", mean of seeds 0-5): level and spread; spline-rebuild CCC at f = 64 and 128
# (the annotators' fast personal noise, 0.7 s, and the latent timescale); the ACF half-time
# (latent timescale; valence has a slow drift besides, which keeps its half-time long while its
# f = 128 rebuild loses as much as RECOLA's); one rater vs gold, concatenated and per recording
# (annotator biases; the gap between the two grows with the between-recording variance).
AROUSAL = LabelModel(mean=-0.01, std=0.185, skew=0.0, between=0.2, timescale_s=3.35,
                     bias_sd=0.9, scale_sd=0.7, noise_sd=0.72, noise_timescale_s=0.7)
VALENCE = LabelModel(mean=0.10, std=0.125, skew=0.25, between=0.3, timescale_s=2.0, drift=0.38,
                     bias_sd=0.65, scale_sd=0.6, noise_sd=0.6, noise_timescale_s=0.7)
PANEL_KEY = 1_000_000  # spawn key of the annotator panel's random stream (recordings use 0, 1, ...)

RECOLA_LABEL_STATS = {
    "arousal": {"mean": -0.01, "std": 0.19, "min": -0.6, "max": 0.53, "power_below_1hz": 0.998,
                "acf_halftime_s": 4.8, "spline_rebuild_ccc": {"64": 0.982, "128": 0.936},
                "annotator_ccc_concatenated": 0.545, "annotator_ccc_per_recording_mean": 0.499},
    "valence": {"mean": 0.10, "std": 0.13, "min": -0.22, "max": 0.71, "power_below_1hz": 0.998,
                "acf_halftime_s": 4.5, "spline_rebuild_ccc": {"64": 0.986, "128": 0.937},
                "annotator_ccc_concatenated": 0.637, "annotator_ccc_per_recording_mean": 0.563},
}
"""RECOLA's real gold standard (train + dev), measured with :func:`.latents.label_statistics`'s
definitions, for comparison in metadata and reports (DESIGN.md). ``power_below_1hz`` is a lower
bound (> 99.8 %)."""


@dataclass(frozen=True)
class SynthConfig:
    """What to generate: recordings per partition, their length (s) and the models."""

    n_train: int
    n_dev: int
    n_test: int
    duration_s: float
    arousal: LabelModel = AROUSAL
    valence: LabelModel = VALENCE
    cues: CueModel = field(default_factory=CueModel)
    pre_roll_s: float = 8.0  # latent history before t = 0, which lagging annotators see

    def __post_init__(self) -> None:
        if min(self.n_train, self.n_dev, self.n_test) < 0 or self.n_train + self.n_dev + self.n_test == 0:
            raise ValueError(f"need a non-negative number of recordings per partition, got "
                             f"{self.n_train}/{self.n_dev}/{self.n_test}")
        if not 2.0 <= self.duration_s <= 3600:
            raise ValueError(f"duration_s must be between 2 and 3600 s, got {self.duration_s}")
        if self.pre_roll_s < max(self.arousal.lag_s[1], self.valence.lag_s[1]) + 2:
            raise ValueError("pre_roll_s must exceed the largest annotator lag by 2 s")

    def ids(self) -> list[tuple[str, str]]:
        """(id, partition) of every recording, in generation order."""
        return [(f"{p}_{k}", p) for p, n in (("train", self.n_train), ("dev", self.n_dev),
                                             ("test", self.n_test)) for k in range(1, n + 1)]


PRESETS: dict[str, SynthConfig] = {
    "tiny": SynthConfig(6, 3, 3, 30.0),      # tests: ~2 s to generate; enough for arousal to be learnt
    "quick": SynthConfig(9, 9, 9, 90.0),     # the main job's default
    "recola": SynthConfig(9, 9, 9, 300.0),   # RECOLA's size: 27 x 5 min
}
TARGETS = ("arousal", "valence")
ANNOTATORS = ("FM1", "FM2", "FM3", "FF1", "FF2", "FF3")


def _config(preset: str, overrides: dict) -> SynthConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in fields(SynthConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown synthetic-corpus option(s) {unknown}; known: {sorted(known)}")
    return replace(PRESETS[preset], **overrides)


def _panel(cfg: SynthConfig, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """The annotators' personal traits per target: the same people rate every recording."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PANEL_KEY,)))
    return {t: draw_annotators(rng, getattr(cfg, t)) for t in TARGETS}


def _recording(cfg: SynthConfig, seed: int, index: int) -> dict:
    """Everything about recording ``index``: int16 audio, labels, ratings, latents, info."""
    ss = np.random.SeedSequence(seed, spawn_key=(index,))
    rng_lab, rng_spk, rng_audio = (np.random.default_rng(s) for s in ss.spawn(3))
    n = int(round(cfg.duration_s / FRAME_S)) + 1
    pre = int(round(cfg.pre_roll_s / FRAME_S))
    out = {"gold": {}, "ratings": {}, "latent": {}, "lags": {}}
    for target in TARGETS:
        model: LabelModel = getattr(cfg, target)
        latent = latent_track(rng_lab, pre + n, model)
        ratings, lags = annotate(rng_lab, latent, pre, model, _panel(cfg, seed)[target])
        out["latent"][target] = latent[pre:]
        out["ratings"][target] = ratings
        out["gold"][target] = ratings.mean(axis=1)
        out["lags"][target] = [round(float(x), 3) for x in lags]
    grid = FRAME_S * np.arange(n)

    def z(target):
        model = getattr(cfg, target)
        track = (out["latent"][target] - model.mean) / model.std
        return lambda t: float(np.interp(t, grid, track))

    spk = draw_speaker(rng_spk)
    wave, summary = synthesize(rng_audio, cfg.duration_s, z("arousal"), z("valence"), spk, cfg.cues)
    out["pcm"] = np.round(np.clip(wave, -1, 1) * 32767).astype(np.int16)
    out["info"] = {"speaker": asdict(spk), "annotator_lags_s": out["lags"], **summary}
    return out


def _write_recording(root: Path, rid: str, rec: dict) -> None:
    with atomic_write(root / AUDIO_DIR / f"{rid}.wav") as f:
        sf.write(f, rec["pcm"], SAMPLE_RATE, format="WAV", subtype="PCM_16")
    for target in TARGETS:
        write_arff(root / GOLD_DIR / target / f"{rid}.arff", rid, rec["gold"][target])
        names = list(ANNOTATORS) if rec["ratings"][target].shape[1] == len(ANNOTATORS) else [
            f"A{i + 1}" for i in range(rec["ratings"][target].shape[1])]
        write_individual_ratings(root / INDIVIDUAL_DIR / target / f"{rid}.csv",
                                 rec["ratings"][target], names)


def _make(args) -> tuple[dict, dict]:
    """Worker: generate and write one recording; return its labels (for statistics) and info."""
    cfg, seed, index, rid, root = args
    rec = _recording(cfg, seed, index)
    _write_recording(root, rid, rec)
    keep = {k: rec[k] for k in ("gold", "ratings", "latent")}
    return keep, rec["info"]


def generate(out_dir: str | Path, preset: str = "quick", seed: int = 0, *, overwrite: bool = False,
             workers: int | None = None, **overrides) -> Path:
    """Write a synthetic corpus in the AVEC 2016 layout to ``out_dir``; return its path.

    ``overrides`` replace fields of the preset's :class:`SynthConfig` (``n_train``,
    ``duration_s``, ``arousal=LabelModel(...)``, ...). ``workers``: processes (default: up to
    the CPU count, 1 for small corpora); the files do not depend on it. A non-empty
    ``out_dir`` is refused unless ``overwrite``, which first removes the corpus files there.
    """
    cfg = _config(preset, overrides)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    root = Path(out_dir)
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise ValueError(f"{root}: folder exists and is not empty (pass overwrite=True)")
        for sub in (AUDIO_DIR, GOLD_DIR, INDIVIDUAL_DIR):
            shutil.rmtree(root / sub, ignore_errors=True)
        for name in ("metadata.json", "latents.npz"):
            (root / name).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    ids = cfg.ids()
    jobs = [(cfg, seed, i, rid, root) for i, (rid, _) in enumerate(ids)]
    if workers is None:
        workers = 1 if len(ids) * cfg.duration_s < 600 else min(len(ids), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_make, jobs))
    else:
        results = [_make(job) for job in jobs]
    save_npz(root / "latents.npz", **{f"{rid}.{t}": res["latent"][t].astype(np.float32)
                                      for (rid, _), (res, _) in zip(ids, results) for t in TARGETS})
    stats = {}
    for group, parts in (("train+dev", ("train", "dev")), ("all", ("train", "dev", "test"))):
        sel = [res for (_, p), (res, _) in zip(ids, results) if p in parts]
        if sel:
            stats[group] = {t: label_statistics([r["gold"][t] for r in sel],
                                                [r["ratings"][t] for r in sel]) for t in TARGETS}
    write_json(root / "metadata.json", {
        "generator": "tinyemo.data.synthetic", "format_version": 2,
        "generator_version": GENERATOR_VERSION, "generator_fingerprint": generator_fingerprint(),
        "preset": preset,
        "seed": seed, "sample_rate": SAMPLE_RATE, "frame_s": FRAME_S, "config": asdict(cfg),
        "label_statistics": stats, "recola_label_statistics": RECOLA_LABEL_STATS,
        "recordings": [{"id": rid, "partition": p, **info} for (rid, p), (_, info) in zip(ids, results)],
    })
    return root


def generator_fingerprint(sources: tuple[Path, ...] | None = None) -> str:
    """12 hex digits that change whenever the generator might write different files: a hash of
    ``GENERATOR_VERSION`` and the source of the modules in ``GENERATOR_SOURCES`` (or of the
    files ``sources``)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(f"tinyemo synthetic corpus v{GENERATOR_VERSION}".encode())
    for path in sources if sources is not None else [here / name for name in GENERATOR_SOURCES]:
        h.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return h.hexdigest()[:12]


def default_corpus_path(preset: str = "quick", seed: int = 0) -> Path:
    """Where :func:`default_corpus` keeps the corpus:
    ``cache_root()/corpora/<preset>-seed<seed>-<generator fingerprint>``."""
    _config(preset, {})
    return cache_root() / "corpora" / f"{preset}-seed{seed}-{generator_fingerprint()}"


def default_corpus(preset: str = "quick", seed: int = 0) -> Path:
    """The cached corpus at :func:`default_corpus_path`, generated when missing.

    The folder's name holds the generator's fingerprint, so a changed generator (another
    version of tinyemo, an edited module) generates afresh instead of reusing a corpus written by
    other code; corpora of other fingerprints are left alone (another installation may use
    them; delete ``cache_root()/corpora`` to reclaim the space). Generation goes to a temporary
    sibling folder that is renamed into place once complete (``metadata.json`` is written
    last), so a half-written corpus is never reused.
    """
    target = default_corpus_path(preset, seed)
    if (target / "metadata.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        generate(tmp, preset, seed, overwrite=True)
        if target.exists() and not (target / "metadata.json").is_file():
            shutil.rmtree(target)  # an incomplete corpus left by something else
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "metadata.json").is_file():  # not a concurrent winner: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
