"""Many recordings → one table, as opensmile-python and audinterface return it: a pandas
DataFrame indexed by ``(file, start, end)`` (audformat's segmented index: ``file`` a string,
``start``/``end`` timedeltas), one column per target.

Without ``segments`` a row is one 40-ms frame (``start`` its time stamp, ``end`` the next);
with ``segments`` (``(window, hop)`` seconds, a CSV/RTTM table, or a list of
:class:`~tinyemo.serve.segments.Segment`) a row is one segment holding the mean (and with
``std=True`` the standard deviation, columns ``<target>_std``) of each target over the frames
whose time stamps fall in it, computed from the file's whole track. Every file and segment is
checked before any prediction starts. ``num_workers`` > 1: local processes, one file per task,
each process reading one file at a time in bounded memory; the result equals one process's.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tinyemo.frontend.audio import check_audio_path
from tinyemo.data.grid import FRAME_S
from tinyemo.frontend.blocks import audio_info
from tinyemo.serve.dask_files import DaskCluster
from tinyemo.serve.result import API_EXTRA, require_pandas
from tinyemo.serve.segments import (Segment, Windows, check_segments, read_segments,
                                    segment_statistics, segments_of_frame, window_segments)
from tinyemo.util.fileio import atomic_write, check_writable
from tinyemo.util.runtime import available_cores, configure_process

__all__ = ["process_files", "process_index", "folder_files", "csv_paths", "check_files",
           "plan_segments", "predict_many", "frame_table", "segment_table", "write_table",
           "check_table_path",
           "TABLE_FORMATS"]

TABLE_FORMATS = (".csv", ".parquet")

_LISTED = 10


def folder_files(root, pattern: str = "**/*.wav") -> list[Path]:
    """The files under ``root`` that match ``pattern``, sorted; ValueError when there are none."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    if not files:
        raise ValueError(f"{root}: no files match {pattern!r}")
    return files


def csv_paths(audio: list[Path], out: Path) -> list[Path]:
    """Where ``tinyemo predict`` writes each file's CSV: ``OUT/<stem>.csv``; when two files
    share a stem, every file's path below the folder they all share, mirrored under ``OUT``
    (``a/x.wav``, ``b/x.wav`` → ``OUT/a/x.csv``, ``OUT/b/x.csv``)."""
    audio = [Path(a) for a in audio]
    resolved = [a.resolve() for a in audio]
    twice = sorted({str(a) for a, r in zip(audio, resolved) if resolved.count(r) > 1})
    if twice:
        raise ValueError(f"audio given more than once: {', '.join(twice[:_LISTED])}")
    stems = [a.stem for a in audio]
    if len(set(stems)) == len(stems):
        return [Path(out) / f"{s}.csv" for s in stems]
    common = Path(os.path.commonpath([str(r.parent) for r in resolved]))
    return [Path(out) / r.relative_to(common).with_suffix(".csv") for r in resolved]


def check_files(files) -> list[float]:
    """Each file's duration (s) from its header; one ValueError listing every missing file
    (a folder given as a file says so)."""
    for f in files:
        if Path(f).is_dir():
            check_audio_path(f)
    missing = [str(f) for f in files if not Path(f).is_file()]
    if len(missing) == 1:
        raise ValueError(f"{missing[0]}: no such audio file")
    if missing:
        more = f" and {len(missing) - _LISTED} more" if len(missing) > _LISTED else ""
        raise ValueError(f"{len(missing)} audio files missing: "
                         f"{', '.join(missing[:_LISTED])}{more}")
    out = []
    for f in files:
        rate, samples = audio_info(f)
        out.append(samples / rate)
    return out


def plan_segments(files: list[str], durations: list[float], segments, on_short: str = "error"
                  ) -> list[tuple[list[Segment], list[bool]]] | None:
    """Per file, its checked segments and which are kept (see :func:`check_segments`); None
    without ``segments``. A table's segments name their file by its path (as given, or
    another path to the same file) or (RTTM) by its name without extension."""
    if segments is None:
        return None
    if isinstance(segments, tuple) and len(segments) == 2:
        segments = Windows(*segments)
    if isinstance(segments, Windows):
        per_file = [window_segments(f, d, segments) for f, d in zip(files, durations)]
    else:
        table = (read_segments(segments) if isinstance(segments, (str, Path))
                 else list(segments))
        per_file = [[] for _ in files]
        lookup = {}
        for i, f in enumerate(files):
            for key in (f, str(Path(f).resolve()), Path(f).stem):
                lookup.setdefault(key, i)
        unknown = []
        for seg in table:
            i = lookup.get(seg.file, lookup.get(str(Path(seg.file).resolve())))
            if i is None:
                unknown.append(seg.where or seg.file)
            else:
                per_file[i].append(seg)
        if unknown:
            raise ValueError(f"segments for files not given: {'; '.join(unknown[:_LISTED])}")
    return [(segs, check_segments(segs, d, on_short)) for segs, d in zip(per_file, durations)]


_MODEL = None      # a worker process's model, loaded once by _set_up_worker


def _set_up_worker(loader, folder: str, device: str, threads: int) -> None:
    global _MODEL
    configure_process(threads)       # a worker process's entry point
    _MODEL = loader(Path(folder), device)


def _predict_in_worker(path: str, dither):
    return _MODEL.predict_file(path, dither=dither, resampling_warning=False)


def predict_many(model, files: list[str], num_workers: int = 1, dither=None, progress=None,
                 cluster: DaskCluster | None = None):
    """Yield (i, Prediction) for each of ``files`` as each is done (in order with one
    process). ``progress(done, total)`` after each. ``cluster``: on Dask instead of local
    processes."""
    if int(num_workers) != num_workers or num_workers < 1:
        raise ValueError(f"num_workers must be a whole number >= 1, got {num_workers!r}")
    if cluster is not None:
        if num_workers != 1:
            raise ValueError("give num_workers or a Dask cluster, not both")
        yield from cluster.predictions(model, files, dither, progress)
        return
    total = len(files)
    if num_workers == 1 or total <= 1:
        for i, f in enumerate(files):
            yield i, model.predict_file(f, dither=dither, resampling_warning=False)
            if progress:
                progress(i + 1, total)
        return
    workers = min(int(num_workers), total)
    threads = max(1, available_cores() // workers)     # the workers share the cores
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_set_up_worker,
                             initargs=(type(model), str(model.folder), model.device,
                                       threads)) as pool:
        pending = {pool.submit(_predict_in_worker, str(f), dither): i
                   for i, f in enumerate(files)}
        done = 0
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = pending.pop(future)
                    yield i, future.result()
                    done += 1
                    if progress:
                        progress(done, total)
        finally:
            for future in pending:
                future.cancel()


def _bar(progress, total: int):
    if callable(progress):
        return None, progress
    if not progress or total == 0:
        return None, None
    bar = tqdm(total=total, unit="file", desc="predict", leave=False)

    def update(done, _total):
        bar.update(done - bar.n)
    return bar, update


def process_files(model, files, *, segments=None, std: bool = False, on_short: str = "error",
                  num_workers: int = 1, progress=True, dither=None, csv_out=None,
                  cluster: DaskCluster | None = None):
    """The DataFrame of ``files`` (see the module docstring). ``progress``: a bar on stderr,
    or a ``progress(done, total)`` callback. ``csv_out``: also write each file's track to
    these CSVs (``tinyemo predict``'s format) as it is done. ``cluster``: a
    :class:`~tinyemo.serve.dask_files.DaskCluster` to run on instead of local processes."""
    pd = require_pandas()
    files = [str(f) for f in files]
    durations = check_files(files)
    model.warn_resampled(files)
    plan = plan_segments(files, durations, segments, on_short)
    predictions = [None] * len(files)
    bar, update = _bar(progress, len(files))
    try:
        for i, prediction in predict_many(model, files, num_workers, dither, update, cluster):
            predictions[i] = prediction
            if csv_out is not None:
                prediction.to_csv(csv_out[i])
    finally:
        if bar is not None:
            bar.close()
    if plan is None:
        return frame_table(pd, files, predictions, model.targets)
    return segment_table(pd, files, predictions, plan, model.targets, std)


def process_index(model, index, **kwargs):
    """The DataFrame of an index (a DataFrame, or the path of a CSV, with a ``file`` column
    and optional ``start``, ``end``, in seconds or timedeltas): with start and end, one row per
    index row (its segment); without, as :func:`process_files` of the files it lists."""
    pd = require_pandas()
    if isinstance(index, (str, Path)):
        if not Path(index).is_file():
            raise ValueError(f"{index}: no such index file")
        frame = pd.read_csv(index)
    else:
        frame = index
    names = list(frame.index.names) if frame.index.nlevels > 1 else []
    columns = set(frame.columns) | set(names)
    if "file" not in columns:
        raise ValueError(f"{index if isinstance(index, (str, Path)) else 'index'}: no 'file' "
                         f"column")
    if not {"start", "end"} <= columns:
        files = list(dict.fromkeys(frame.reset_index()["file"].astype(str)))
        return process_files(model, files, **kwargs)
    if kwargs.get("segments") is not None:
        raise ValueError("index: give segments either as its start/end columns or as segments=")
    segments = segments_of_frame(frame)
    if isinstance(index, (str, Path)):      # errors name the CSV's lines
        segments = [Segment(s.file, s.start, s.end, f"{index}: line {k + 2}")
                    for k, s in enumerate(segments)]
    files = list(dict.fromkeys(s.file for s in segments))
    return process_files(model, files, segments=segments, **kwargs)


def check_table_path(path: Path) -> Path:
    """ValueError/RuntimeError, before any work, when :func:`write_table` could not write
    ``path``: not .csv or .parquet, a folder, below a file, or its library missing."""
    path = Path(path)
    if path.suffix not in TABLE_FORMATS:
        raise ValueError(f"{path}: name a .csv or .parquet table")
    check_writable(path, "the table")
    require_pandas()
    if path.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401  (optional, tinyemo[api]: only Parquet needs it)
        except ImportError:
            raise RuntimeError(f"{path}: Parquet needs pyarrow, which is not installed: "
                               f"{API_EXTRA}") from None
    return path


def write_table(table, path: Path) -> Path:
    """``table`` to ``path`` atomically: Parquet (``.parquet``: pyarrow; start/end as
    durations) or CSV (``.csv``: the columns file, start, end in seconds, then the values)."""
    path = check_table_path(path)
    if path.suffix == ".parquet":
        with atomic_write(path, "wb") as f:
            table.to_parquet(f)
        return path
    flat = table.reset_index()
    for column in ("start", "end"):
        flat[column] = flat[column].dt.total_seconds()
    with atomic_write(path, "w") as f:
        flat.to_csv(f, index=False, float_format="%.6g", lineterminator="\n")
    return path


def _index(pd, files, starts, ends):
    return pd.MultiIndex.from_arrays(
        [pd.Index(list(files)), pd.to_timedelta(starts, unit="s"),
         pd.to_timedelta(ends, unit="s")], names=["file", "start", "end"])


def frame_table(pd, files, predictions, targets):
    """One row per frame of every file."""
    names = np.concatenate([np.full(len(p), f, dtype=object) for f, p in zip(files, predictions)])
    times = np.concatenate([p.times for p in predictions])
    values = {t: np.concatenate([p[t] for p in predictions]) for t in targets}
    return pd.DataFrame(values, index=_index(pd, names, times, times + FRAME_S))


def segment_table(pd, files, predictions, plan, targets, std: bool = False):
    """One row per segment of every file, in the order given."""
    names, starts, ends, speakers, columns = [], [], [], [], {}
    for file, prediction, (segs, keep) in zip(files, predictions, plan):
        names += [file] * len(segs)
        starts += [s.start for s in segs]
        ends += [s.end for s in segs]
        speakers += [s.speaker for s in segs]
        for t in targets:
            mean, dev = segment_statistics(prediction[t], prediction.offset, segs, keep, std)
            columns.setdefault(t, []).append(mean)
            if std:
                columns.setdefault(f"{t}_std", []).append(dev)
    values = {c: np.concatenate(v) if v else np.empty(0, np.float32) for c, v in columns.items()}
    if any(s is not None for s in speakers):
        values["speaker"] = pd.Index(speakers)
    return pd.DataFrame(values, index=_index(pd, names, starts, ends))
