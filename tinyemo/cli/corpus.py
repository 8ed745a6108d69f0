"""The corpus options that ``train``, ``baseline`` and ``sweep`` share (``--data``,
``--manifest``, ``--preset``, ``--data-seed``, ``--target``), checked in one place, and the
corpus they name: a folder or manifest of the user's, or the embedded synthetic corpus
(generated once into the cache, announced with a progress bar)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tinyemo.cli.boundary import Progress
from tinyemo.data import PRESETS
from tinyemo.data.cached import synthetic_corpus
from tinyemo.util.settings import SettingError

__all__ = ["add_corpus_options", "data_source", "targets_of", "corpus_path"]

TARGETS = ("arousal", "valence")


def add_corpus_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="a corpus folder in the AVEC 2016 (RECOLA) layout")
    p.add_argument("--manifest", help="a CSV manifest (audio,speaker,partition,<target>…)")
    p.add_argument("--preset", default="quick",
                   help="synthetic corpus preset when no data is given")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    p.add_argument("--target", choices=(*TARGETS, "both"), default="both")


def targets_of(args) -> tuple[str, ...]:
    return TARGETS if args.target == "both" else (args.target,)


def data_source(args) -> Path | None:
    """The corpus path of --data/--manifest (checked), or None for the synthetic corpus."""
    if args.data and args.manifest:
        raise SettingError("data", "give --data or --manifest, not both")
    if args.manifest:
        path = Path(args.manifest)
        if not path.is_file():
            raise SettingError("manifest", f"{path}: no such file")
        return path
    if args.data:
        path = Path(args.data)
        if not path.exists():
            raise SettingError("data", f"{path}: no such corpus folder or manifest")
        return path
    if args.preset not in PRESETS:
        raise SettingError("preset", f"unknown preset {args.preset!r}; choose one of "
                           f"{', '.join(PRESETS)}")
    if args.data_seed < 0:
        raise SettingError("data_seed", f"must be >= 0, got {args.data_seed}")
    return None


def corpus_path(args, source: Path | None, ui: Progress) -> Path:
    """``source``, or the synthetic corpus of --preset/--data-seed (generated on first use,
    saying so)."""
    if source is not None:
        return source
    ui.say(f"using the synthetic corpus (preset {args.preset!r}, seed {args.data_seed}); "
           f"--data DIR or --manifest FILE for your own")
    bar = ui.counter("generating the synthetic corpus")

    def generating(done, total):
        if done == 0:
            ui.note(f"generating the synthetic corpus: {total} recordings (once; reused "
                    f"afterwards)")
        if bar:
            bar(done, total)
    return synthetic_corpus(args.preset, args.data_seed, progress=generating)
