"""Prediction and evaluation with a trained experiment folder (``tinyemo train --out DIR``)."""
from __future__ import annotations

from pathlib import Path

from .data import load_corpus
from .data.corpus import Corpus, Recording
from .ensemble import Ensemble, write_predictions
from .experiment import results_table
from .frontend import FbankOptions
from .metrics import score
from .pipeline import prepare

__all__ = ["predict_files", "evaluate"]


def _fbank_options(ensemble: Ensemble) -> FbankOptions:
    return FbankOptions(**ensemble.config.get("fbank", {}))


def _normalise(ensemble: Ensemble) -> str:
    """How the training features were z-normalised (folders from before the setting: speaker)."""
    return ensemble.config.get("normalise", "speaker")


def predict_files(model_dir: Path, audio: list[Path], out: Path, device: str = "cpu") -> list[Path]:
    """Write ``OUT/<stem>.csv`` (time, one column per target) for each audio file, one row per
    40 ms from t = 0 to the end of the recording. Each file is its own speaker for the
    z-normalisation. Returns the CSV paths."""
    ensemble = Ensemble(model_dir, device)
    stems = [Path(a).stem for a in audio]
    if len(set(stems)) != len(stems):
        raise ValueError(f"two audio files share a name, their CSVs would collide: {stems}")
    corpus = Corpus([Recording(s, s, "predict", Path(a)) for s, a in zip(stems, audio)])
    examples = list(prepare(corpus, _fbank_options(ensemble),
                            normalise=_normalise(ensemble)).values())
    by_target = {t: ensemble.predict(examples, t)[0] for t in ensemble.targets}
    write_predictions(Path(out), examples, by_target)
    return [Path(out) / f"{s}.csv" for s in stems]


def evaluate(model_dir: Path, data: Path, partition: str = "dev", device: str = "cpu") -> str:
    """The paper's table (RMSE and CCC over the concatenated partition) for ``partition`` of a
    labelled corpus, ensemble of all seeds."""
    ensemble = Ensemble(model_dir, device)
    corpus = load_corpus(data)
    examples = [ex for ex in prepare(corpus, _fbank_options(ensemble),
                                     normalise=_normalise(ensemble)).values()
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
