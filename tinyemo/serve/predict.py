"""Prediction and evaluation with a trained experiment folder (``tinyemo train --out DIR``) or
a fitted baseline's (``tinyemo baseline --out DIR``). Audio at another sample rate than the
model's front end is resampled to it (with a warning)."""
from __future__ import annotations

from pathlib import Path

from tinyemo.data import load_corpus
from tinyemo.data.corpus import check_partitions
from tinyemo.runs.tables import results_table
from tinyemo.serve.load import load_model
from tinyemo.util.metrics import score, score_per_recording

__all__ = ["predict_files", "evaluate"]


def predict_files(model_dir: Path, audio: list[Path], out: Path, device: str = "cpu",
                  progress=None, dither: float | None = None, num_workers: int = 1,
                  skip_existing: bool = False, cluster=None) -> list[Path]:
    """Write ``OUT/<stem>.csv`` (time, one column per target) for each audio file, one row per
    40 ms from t = 0 to the end of the recording. Each file is its own speaker for the
    z-normalisation. Files of any length in bounded memory (``tinyemo.serve.longform``): the same
    result as the whole-file computation (openSMILE descriptors, ``--features lld|fbank+lld``,
    included: openSMILE's own stream). ``progress(done, total)``: called as each
    file is done. ``dither``: instead of the model's front end's (0: what ``tinyemo export``
    computes). A baseline's folder predicts whole files (its windows span seconds).
    Files sharing a name in different folders: the input tree mirrored under ``out``.
    ``num_workers``: local processes, one file per task (the same numbers as one process);
    ``skip_existing``: keep the CSVs already there. ``cluster``: a
    :class:`~tinyemo.serve.dask_files.DaskCluster` instead. Returns the CSV paths."""
    return load_model(model_dir, device).predict_files(audio, out, progress, dither, num_workers,
                                                       skip_existing, cluster)


def evaluate(model_dir: Path, data: Path, partition: str = "dev", device: str = "cpu",
             target: str | None = None, progress=None) -> str:
    """The paper's table (RMSE and CCC over the concatenated partition) for ``partition`` of a
    labelled corpus, ensemble of all seeds, for ``target`` (default: every target of the
    model), then each target's per-recording CCC (mean ± std over the partition's
    recordings), reported beside the concatenated one, never mixed into it."""
    model = load_model(model_dir, device)
    if target is not None and target not in model.targets:
        raise ValueError(f"{model_dir}: no {target} model here (it has "
                         f"{', '.join(model.targets)})")
    targets = [target] if target else model.targets
    corpus = load_corpus(data)
    check_partitions(corpus, data)     # as train: a misspelt partition is not left out
    partition = partition.lower()
    if not corpus.partition(partition):
        found = ", ".join(f"{p} ({len(corpus.partition(p))})" for p in corpus.partitions)
        raise ValueError(f"{data}: no recordings in partition {partition!r}; it has {found}")
    examples = [ex for ex in model.examples(corpus, progress).values()
                if ex.recording.partition == partition]
    res: dict = {}
    per_recording = []
    for t in targets:
        unlabelled = [ex.id for ex in examples if t not in ex.y]
        if unlabelled:
            raise ValueError(f"{data}: recordings of {partition!r} lack {t} labels: "
                             f"{', '.join(unlabelled[:8])}")
        mean, _ = model.predict_examples(examples, t)
        gold = [ex.y[t] for ex in examples]
        res[t] = {partition: score(mean, gold)}
        each = score_per_recording(mean, gold)
        per_recording.append(f"{t} {each['ccc_mean']:.3f} ± {each['ccc_std']:.3f}")
    return (results_table({model.name: res}, (partition,))
            + f"\nper-recording CCC over the {len(examples)} {partition} recordings (mean ± "
              f"std; the table's CCC is over them concatenated): {', '.join(per_recording)}\n")
