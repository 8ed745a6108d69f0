"""Shared plumbing of the paper's experiment scripts (``scripts/fig1_*.py``, ``fig4_*``,
``fig5_*``, ``tables.py``): options, the data, training an experiment folder (resumable),
reading its prediction CSVs back.

Each script has a ``--quick`` setting (the ``tiny`` corpus, one run, two epochs: seconds, used
by tests/report/test_experiments.py) and a default setting for the real figure (the ``quick`` corpus,
3 runs, at most 40 epochs); any explicit option overrides either.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tinyemo.data.cached import synthetic_corpus
from tinyemo.data.examples import load_examples as load
from tinyemo.runs.experiment import ExperimentConfig, train_experiment
from tinyemo.runs.predictions import read_predictions as read
from tinyemo.train.loop import TrainConfig
from tinyemo.util.fileio import write_json as _write
from tinyemo.util.fileio import write_text
from tinyemo.util.runtime import configure_process

TARGETS = ("arousal", "valence")
QUICK = {"preset": "tiny", "runs": 1, "epochs": 2, "patience": 2}
REAL = {"preset": "quick", "runs": 3, "epochs": 40, "patience": 10}


def parser(description: str, training: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", type=Path, required=True, help="folder for the JSON/CSV/PNG outputs")
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long smoke setting (tiny corpus, 1 run, 2 epochs)")
    p.add_argument("--data", type=Path, help="a corpus in the AVEC 2016 layout (default: synthetic)")
    p.add_argument("--preset", help="synthetic corpus preset (default quick; --quick: tiny)")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="BLAS/Numba threads (default: all)")
    if training:
        p.add_argument("--runs", type=int, help="seeds per model (default 3; --quick: 1)")
        p.add_argument("--epochs", type=int, help="epoch cap (default 40; --quick: 2)")
        p.add_argument("--patience", type=int, help="early-stopping patience (default 10)")
        p.add_argument("--lr", type=float, default=1e-3)
    return p


def settle(args) -> argparse.Namespace:
    """Fill unset options from the quick or the real setting; set the thread count."""
    base = QUICK if args.quick else REAL
    for key, value in base.items():
        if hasattr(args, key) and getattr(args, key) is None:
            setattr(args, key, value)
    if args.preset is None:
        args.preset = base["preset"]
    configure_process(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def corpus_path(args) -> Path:
    return Path(args.data) if args.data else synthetic_corpus(args.preset, args.data_seed)


def setting(args) -> dict:
    """What produced a result, for its JSON."""
    keys = ("preset", "data", "data_seed", "runs", "epochs", "patience", "lr", "quick", "threads",
            "features")
    return {k: (str(v) if isinstance(v, Path) else v) for k in keys
            if (v := getattr(args, k, None)) is not None}


def load_examples(args):
    """(examples, data_info) for the chosen corpus, features (``args.features``, default the
    log-mels) from the on-disk cache."""
    return load(corpus_path(args), features=getattr(args, "features", None) or "fbank")


def train(examples, data_info, args, arch: str, out: Path, targets=TARGETS,
          overrides: dict | None = None, label: str = "") -> tuple[dict, float]:
    """Train (or resume, or reuse when finished) one experiment folder: (results, seconds)."""
    config = ExperimentConfig(arch=arch, targets=tuple(targets), seeds=tuple(range(args.runs)),
                              train=TrainConfig(epochs=args.epochs, patience=args.patience,
                                                lr=args.lr), model=overrides or {},
                              features=data_info.get("features", "fbank"))
    start = time.perf_counter()
    results = train_experiment(examples, config, out, data_info=data_info, resume=True,
                               say=lambda s: None)
    seconds = time.perf_counter() - start
    dev = "  ".join(f"{t} dev CCC {results[t]['dev']['ccc']:.3f}" for t in targets)
    print(f"{label or arch}: {dev}  ({seconds:.0f} s)", flush=True)
    return results, seconds


def run_dev_ccc(results: dict, target: str) -> list[float]:
    """Each seed's own dev CCC (its best weights), not the ensemble's."""
    return [r["dev"]["ccc"] for r in results[target]["runs"]]


def read_predictions(folder: Path, partition: str) -> dict:
    """``{id: {column: (T,) array}}`` from ``folder/predictions/<partition>/*.csv``."""
    try:
        return read(folder, partition)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def tracks(table: dict, target: str) -> tuple[list, list]:
    """(predictions, gold) lists of one target over the recordings of a read partition."""
    rows = [r for r in table.values() if f"{target}_gold" in r]
    return [r[target] for r in rows], [r[f"{target}_gold"] for r in rows]


def write_json(path: Path, obj) -> None:
    _write(path, json.loads(json.dumps(obj, default=float)))


def write_csv(path: Path, header: list[str], rows) -> None:
    lines = [",".join(header)] + [",".join(f"{v:.6g}" if isinstance(v, float) else str(v)
                                           for v in row) for row in rows]
    write_text(path, "\n".join(lines) + "\n")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
