"""Recordings of any length in bounded memory, with the whole-file result.

``tinyemo predict`` normalises each file with its own statistics (each file is its own
speaker), so it takes two passes:

1. read the audio block by block → fbank (:class:`FbankStream`: frames straddling block edges
   computed exactly) and, for models with openSMILE inputs, its descriptors
   (:class:`DescriptorStream`: openSMILE's own streaming engine, exactly its whole-signal rows)
   → the mean and standard deviation of each 10-ms feature (:class:`Moments`, merged per
   block), the frames spilled to temporary files (160 bytes per 10 ms of log-mels, 100 of
   descriptors: 230 MB of disk for 4 h of log-mels, deleted at the end);
2. read the frames back block by block → z-normalise with those statistics → stack → the nets
   on overlapping windows aligned to the down/up net's pooling grid
   (:class:`WindowedEnsemble`) → CSV rows written as they come, the file replaced atomically.

Memory: one audio block, one block of frames, one window of features and activations
(descriptors: openSMILE's ring buffers, 8 s of samples): flat in the recording's length. The
result equals the whole-file computation (``stream.predict_offline``; descriptor models: the
whole-file features of ``prepare``) to float32 rounding.
"""
from __future__ import annotations

import dataclasses
import errno
import tempfile
from pathlib import Path

import numpy as np

from tinyemo.data.grid import frames_for_duration
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.blocks import BLOCK_SAMPLES, audio_blocks, audio_info, resampled_blocks
from tinyemo.frontend.descriptor_stream import DescriptorStream
from tinyemo.frontend.fbank_stream import FbankStream
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.profile import Moments, Profile, profile_of_files
from tinyemo.serve.result import csv_line
from tinyemo.serve.streaming import StreamPredictor, model_options
from tinyemo.serve.windowed import MAX_WINDOW
from tinyemo.util.fileio import atomic_write

__all__ = ["recording_profile", "iter_predictions", "iter_block_predictions", "predict_long",
           "write_csv_rows"]


def _fixed_dither(options: FbankOptions) -> FbankOptions:
    """Unseeded dither gets one fresh seed here, so the passes of a recording agree."""
    if options.dither != 0.0 and options.seed is None:
        return dataclasses.replace(options, seed=int(np.random.SeedSequence().generate_state(1)[0]))
    return options


class _Counted:
    """Blocks passed through, their samples counted."""

    def __init__(self, blocks):
        self.blocks, self.samples = blocks, 0

    def __iter__(self):
        for block in self.blocks:
            self.samples += block.size
            yield block


def recording_profile(path: Path, options: FbankOptions, block_samples: int = BLOCK_SAMPLES
                      ) -> Profile:
    """The statistics of one recording's log-mel frames, read block by block."""
    return profile_of_files([Path(path)], options, block_samples=block_samples, source=str(path))


def iter_predictions(ensemble: Ensemble, path: Path, *, block_samples: int = BLOCK_SAMPLES,
                     max_window: int = MAX_WINDOW, options: FbankOptions | None = None,
                     sample_rate: int | None = None, start: int = 0, stop: int | None = None):
    """(columns, generator of (k, 1 + targets) tables): the rows of ``path`` in order, as the
    second pass produces them. ``options``: fbank options instead of the model's.
    ``sample_rate``: the front end's rate (default: the model's when its configuration records
    one, else the file's); audio at another rate is resampled block by block. ``start``,
    ``stop``: only these samples of the file (a recording of its own)."""
    path = Path(path)
    file_rate, _ = audio_info(path)
    blocks = audio_blocks(path, block_samples, start, stop)
    return iter_block_predictions(ensemble, blocks, file_rate, name=str(path),
                                  block_samples=block_samples, max_window=max_window,
                                  options=options, sample_rate=sample_rate)


def iter_block_predictions(ensemble: Ensemble, blocks, file_rate: int, *, name: str,
                           block_samples: int = BLOCK_SAMPLES, max_window: int = MAX_WINDOW,
                           options: FbankOptions | None = None, sample_rate: int | None = None):
    """:func:`iter_predictions` of a recording given as (n,) sample blocks at ``file_rate`` Hz
    (int16 scale; read once, in the first pass); ``name`` names it in errors."""
    features = ensemble.config.get("features", "fbank")
    options = _fixed_dither(options or model_options(ensemble)[0])
    rate = int(sample_rate or ensemble.config.get("sample_rate") or file_rate)
    stream = FbankStream(rate, options, name=name)     # the frame grid, and the log-mels
    parts = []                                         # (stream, its Moments, its spill file)
    try:                                               # pass 1: statistics, frames to disk
        if features != "lld":
            parts.append((stream, Moments(), tempfile.TemporaryFile(prefix="tinyemo-frames-")))
        if features != "fbank":
            parts.append((DescriptorStream(rate, options, name=name), Moments(),
                          tempfile.TemporaryFile(prefix="tinyemo-descriptors-")))
        counted = _Counted(blocks)
        for block in resampled_blocks(counted, file_rate, rate):
            frames = stream.push(block)
            for part, moments, spill in parts:
                _keep(frames if part is stream else part.push(block), moments, spill, name)
        last = stream.finish()
        for part, moments, spill in parts:
            _keep(last if part is stream else part.finish(), moments, spill, name)
        profile = Profile.from_moments(_side_by_side([m for _, m, _ in parts]), rate,
                                       options.to_dict(), source=name)
        predictor = StreamPredictor(ensemble, "profile", profile, sample_rate=rate,
                                    hop=max_window, max_window=max_window,
                                    fbank_options=options, name=name, frames_only=True)
    except BaseException:
        for part, _, spill in parts:
            spill.close()
            if part is not stream:
                part.close()
        raise
    rows = frames_for_duration(counted.samples / file_rate)   # the file's own duration
    per_block = max(1, block_samples // stream.shift)

    def tables():                                      # pass 2: normalise, stack, nets
        try:
            for _, _, spill in parts:
                spill.seek(0)
            dims = [m.mean.shape[0] for _, m, _ in parts]
            while True:
                frames = np.concatenate([
                    np.fromfile(spill, dtype=np.float32, count=per_block * d).reshape(-1, d)
                    for (_, _, spill), d in zip(parts, dims)], axis=1)
                if frames.shape[0] == 0:
                    break
                yield predictor.push_frames(frames, rows)
            yield predictor.flush_frames(np.empty((0, sum(dims)), np.float32), rows)
        finally:
            for _, _, spill in parts:
                spill.close()
    return predictor.columns, tables()


def _keep(frames: np.ndarray, moments: Moments, spill, name: str) -> None:
    moments.add(frames)
    _spill(frames, spill, name)


def _side_by_side(parts: list[Moments]) -> Moments:
    """The moments of the frames whose columns are those of ``parts`` (the same frames)."""
    if len(parts) == 1:
        return parts[0]
    joined = Moments()
    joined.count = parts[0].count
    joined.mean = np.concatenate([m.mean for m in parts])
    joined.m2 = np.concatenate([m.m2 for m in parts])
    return joined


def _spill(frames: np.ndarray, spill, name: str) -> None:
    """Append frames to the temporary file; an OSError that says where and what to do."""
    try:
        frames.tofile(spill)
    except OSError as exc:    # numpy's own message ("N requested and M written") names nothing
        raise OSError(exc.errno or errno.ENOSPC, f"{name}: cannot write its frames to the "
                      f"temporary folder {tempfile.gettempdir()} (full?); free space there or "
                      "set TMPDIR to a folder with room") from None


def predict_long(ensemble: Ensemble, path: Path, out_csv: Path, *,
                 block_samples: int = BLOCK_SAMPLES, max_window: int = MAX_WINDOW,
                 options: FbankOptions | None = None, sample_rate: int | None = None) -> int:
    """Write ``out_csv`` (``time,<target>…`` every 40 ms, as ``tinyemo predict``) for the
    audio file ``path`` in bounded memory; the file appears only when complete. Returns the
    number of rows."""
    columns, tables = iter_predictions(ensemble, path, block_samples=block_samples,
                                       max_window=max_window, options=options,
                                       sample_rate=sample_rate)
    rows = 0
    with atomic_write(out_csv, "w") as f:
        f.write(",".join(columns) + "\n")
        for table in tables:
            write_csv_rows(f, table)
            rows += table.shape[0]
    return rows


def write_csv_rows(f, table: np.ndarray) -> None:
    """Rows of a (k, 1 + targets) table as ``ensemble.write_predictions`` formats them."""
    if table.shape[0]:
        f.write("".join(csv_line(row[0], row[1:]) for row in table.tolist()))
