"""Prediction and evaluation with a trained experiment folder (``tinyemo train --out DIR``) or
a fitted baseline's (``tinyemo baseline --out DIR``). Audio at another sample rate than the
model's front end is resampled to it (with a warning)."""
from __future__ import annotations

from pathlib import Path

from tinyemo.baselines import BaselineModel, is_baseline_folder
from tinyemo.data import load_corpus
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.examples import prepare
from tinyemo.frontend import FbankOptions
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.predictions import write_predictions
from tinyemo.runs.tables import results_table
from tinyemo.serve.longform import predict_files_long
from tinyemo.util.metrics import score, score_per_recording
from tinyemo.util.notices import warn

__all__ = ["predict_files", "evaluate", "load_model"]


def _fbank_options(ensemble: Ensemble) -> FbankOptions:
    return FbankOptions(**ensemble.config.get("fbank", {}))


def _normalise(ensemble: Ensemble) -> str:
    """How the training features were z-normalised (folders from before the setting: speaker)."""
    return ensemble.config.get("normalise", "speaker")



def _sample_rate(ensemble: Ensemble, model_dir: Path) -> int | None:
    if ensemble.sample_rate is None:
        warn(f"{Path(model_dir) / 'config.json'} records no sample rate (saved by an older "
             f"tinyemo): audio is used at its own rate")
    return ensemble.sample_rate


def load_model(model_dir: Path, device: str = "cpu"):
    """The predictor in a model folder: an :class:`Ensemble` of trained nets, or a fitted
    baseline (:class:`tinyemo.baselines.BaselineModel`), which computes its own features."""
    if is_baseline_folder(model_dir):
        return BaselineModel(model_dir)
    return Ensemble(model_dir, device)


def _examples(model, model_dir: Path, corpus: Corpus, progress) -> dict:
    if isinstance(model, Ensemble):
        return prepare(corpus, _fbank_options(model), progress=progress,
                       sample_rate=_sample_rate(model, model_dir), normalise=_normalise(model))
    return model.examples(corpus, progress)


def predict_files(model_dir: Path, audio: list[Path], out: Path, device: str = "cpu",
                  progress=None, dither: float | None = None) -> list[Path]:
    """Write ``OUT/<stem>.csv`` (time, one column per target) for each audio file, one row per
    40 ms from t = 0 to the end of the recording. Each file is its own speaker for the
    z-normalisation. Files of any length in bounded memory (``tinyemo.serve.longform``): the same
    result as the whole-file computation. ``progress(done, total)``: called as each file is
    done. ``dither``: instead of the model's front end's (0: what ``tinyemo export``
    computes). A baseline's folder predicts whole files (its windows span seconds).
    Returns the CSV paths."""
    model = load_model(model_dir, device)
    stems = [Path(a).stem for a in audio]
    if len(set(stems)) != len(stems):
        raise ValueError(f"two audio files share a name, their CSVs would collide: {stems}")
    if isinstance(model, Ensemble):
        return predict_files_long(model, [Path(a) for a in audio], Path(out), dither=dither,
                                  sample_rate=_sample_rate(model, model_dir), progress=progress)
    corpus = Corpus([Recording(s, s, "predict", Path(a)) for s, a in zip(stems, audio)])
    examples = list(_examples(model, model_dir, corpus, progress).values())
    by_target = {t: model.predict(examples, t)[0] for t in model.targets}
    write_predictions(Path(out), examples, by_target)
    return [Path(out) / f"{s}.csv" for s in stems]


def evaluate(model_dir: Path, data: Path, partition: str = "dev", device: str = "cpu",
             target: str | None = None, progress=None) -> str:
    """The paper's table (RMSE and CCC over the concatenated partition) for ``partition`` of a
    labelled corpus, ensemble of all seeds, for ``target`` (default: every target of the
    model), then each target's per-recording CCC (mean ± std over the partition's
    recordings), reported beside the concatenated one, never mixed into it."""
    ensemble = load_model(model_dir, device)
    if target is not None and target not in ensemble.targets:
        raise ValueError(f"{model_dir}: no {target} model here (it has "
                         f"{', '.join(ensemble.targets)})")
    targets = [target] if target else ensemble.targets
    corpus = load_corpus(data)
    partition = partition.lower()
    if not corpus.partition(partition):
        found = ", ".join(f"{p} ({len(corpus.partition(p))})" for p in corpus.partitions)
        raise ValueError(f"{data}: no recordings in partition {partition!r}; it has {found}")
    examples = [ex for ex in _examples(ensemble, model_dir, corpus, progress).values()
                if ex.recording.partition == partition]
    res: dict = {}
    per_recording = []
    for t in targets:
        unlabelled = [ex.id for ex in examples if t not in ex.y]
        if unlabelled:
            raise ValueError(f"{data}: recordings of {partition!r} lack {t} labels: "
                             f"{', '.join(unlabelled[:8])}")
        mean, _ = ensemble.predict(examples, t)
        gold = [ex.y[t] for ex in examples]
        res[t] = {partition: score(mean, gold)}
        each = score_per_recording(mean, gold)
        per_recording.append(f"{t} {each['ccc_mean']:.3f} ± {each['ccc_std']:.3f}")
    name = ensemble.config.get("arch") or ensemble.config["baseline"]
    return (results_table({name: res}, (partition,))
            + f"\nper-recording CCC over the {len(examples)} {partition} recordings (mean ± "
              f"std; the table's CCC is over them concatenated): {', '.join(per_recording)}\n")
