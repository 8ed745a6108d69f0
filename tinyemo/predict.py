"""Prediction and evaluation with a trained experiment folder (``tinyemo train --out DIR``)."""
from __future__ import annotations

from pathlib import Path

from .data import load_corpus
from .ensemble import Ensemble
from .experiment import results_table
from .frontend import FbankOptions
from .metrics import score
from .pipeline import prepare

__all__ = ["predict_files", "evaluate"]


def _fbank_options(ensemble: Ensemble) -> FbankOptions:
    return FbankOptions(**ensemble.config.get("fbank", {}))


def predict_files(model_dir: Path, audio: list[Path], out: Path, device: str = "cpu",
                  dither: float | None = None) -> list[Path]:
    """Write ``OUT/<stem>.csv`` (time, one column per target) for each audio file, one row per
    40 ms from t = 0 to the end of the recording. Each file is its own speaker for the
    z-normalisation. Files of any length in bounded memory (``tinyemo.longform``): the same
    result as the whole-file computation. ``dither``: instead of the model's front end's (0:
    what ``tinyemo export`` computes). Returns the CSV paths."""
    ensemble = Ensemble(model_dir, device)
    stems = [Path(a).stem for a in audio]
    if len(set(stems)) != len(stems):
        raise ValueError(f"two audio files share a name, their CSVs would collide: {stems}")
    from .longform import predict_files_long
    return predict_files_long(ensemble, [Path(a) for a in audio], Path(out), dither=dither)


def evaluate(model_dir: Path, data: Path, partition: str = "dev", device: str = "cpu") -> str:
    """The paper's table (RMSE and CCC over the concatenated partition) for ``partition`` of a
    labelled corpus, ensemble of all seeds."""
    ensemble = Ensemble(model_dir, device)
    corpus = load_corpus(data)
    examples = [ex for ex in prepare(corpus, _fbank_options(ensemble)).values()
                if ex.recording.partition == partition]
    if not examples:
        raise ValueError(f"{data}: the {partition!r} partition is empty")
    res: dict = {}
    for target in ensemble.targets:
        if not all(target in ex.y for ex in examples):
            raise ValueError(f"{data}: recordings of {partition!r} lack {target} labels")
        mean, _ = ensemble.predict(examples, target)
        res[target] = {partition: score(mean, [ex.y[target] for ex in examples])}
    return results_table({ensemble.config["arch"]: res}, (partition,))
