"""A plain corpus manifest: one CSV row per recording.

::

    audio,speaker,partition,arousal,valence
    wav/s01_a.wav,s01,train,labels/s01_a_arousal.csv,labels/s01_a_valence.csv
    wav/s02_a.wav,s02,test,,

Required columns: ``audio``, ``speaker``, ``partition``; optional ``id`` (default: the audio
file's stem). Every other column is a target whose cell names a label CSV (empty: no label).
Relative paths are resolved against the manifest's folder. Partition names are read in any case
(``Train`` is ``train``), as the AVEC 2016 reader reads file names.

A label CSV has a header and two columns, ``time,value``: seconds and rating, at any regular
rate. **Resampling rule**: the track is linearly interpolated (``np.interp``) at
``t = 0.04 j`` for ``j = 0 … floor(t_last / 0.04)``; grid points before the first sample take
the first value (the first sample must be at most 1 s in). Times must increase with a constant
step (within 1 %).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.grid import (
    LABEL_TOLERANCE_S, check_label_duration, parse_number, resample_to_grid,
)

__all__ = ["read_manifest", "read_label_csv"]

REQUIRED = ("audio", "speaker", "partition")


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows of ``path`` with their line numbers; ValueError if unreadable."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        rows = []
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((reader.line_num, [c.strip() for c in row]))
    if not rows:
        raise ValueError(f"{path}: empty file")
    return rows


def read_label_csv(path: str | Path) -> tuple[np.ndarray, int]:
    """A ``time,value`` label CSV resampled to the 40 ms grid: ((T,) float32, last line number)."""
    path = Path(path)
    rows = _rows(path)
    (hline, header), data = rows[0], rows[1:]
    if len(header) != 2 or _is_number(header[0]):
        raise ValueError(f"{path}, line {hline}: expected the header 'time,value', got {','.join(header)!r}")
    if not data:
        raise ValueError(f"{path}: no label rows after the header")
    tv = np.empty((len(data), 2))
    for r, (no, row) in enumerate(data):
        if len(row) != 2:
            raise ValueError(f"{path}, line {no}: expected 2 comma-separated values (time,value), got {len(row)}")
        tv[r] = [parse_number(row[c], path, no, header[c]) for c in range(2)]
    t = tv[:, 0]
    if t[0] < 0 or t[0] > LABEL_TOLERANCE_S:
        raise ValueError(f"{path}, line {data[0][0]}: the first label time must be within "
                         f"0 … {LABEL_TOLERANCE_S:g} s, got {t[0]:g}")
    if len(t) > 1:
        step = np.diff(t)
        ref = np.median(step)
        bad = np.nonzero((step <= 0) | (np.abs(step - ref) > 0.01 * ref))[0]
        if ref <= 0 or bad.size:
            k = int(bad[0]) + 1 if bad.size else 1
            raise ValueError(f"{path}, line {data[k][0]}: times must increase at a regular rate "
                             f"(step {ref:g} s), got {t[k - 1]:g} then {t[k]:g}")
    return resample_to_grid(t, tv[:, 1]), data[-1][0]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_manifest(path: str | Path) -> Corpus:
    """Read a manifest CSV (see the module docstring) into a :class:`Corpus`."""
    path = Path(path)
    rows = _rows(path)
    (hline, header), data = rows[0], rows[1:]
    names = [h.lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ValueError(f"{path}, line {hline}: header lacks column(s) {', '.join(missing)} "
                         f"(expected audio,speaker,partition[,id][,<target>...])")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}, line {hline}: repeated column name in header")
    col = {n: i for i, n in enumerate(names)}
    targets = [header[i] for i, n in enumerate(names) if n not in (*REQUIRED, "id")]
    base = path.parent
    recordings, first_line = [], {}
    for no, row in data:
        if len(row) != len(header):
            raise ValueError(f"{path}, line {no}: expected {len(header)} comma-separated values, got {len(row)}")
        for c in REQUIRED:
            if not row[col[c]]:
                raise ValueError(f"{path}, line {no}: empty {c}")
        audio = base / row[col["audio"]]
        if not audio.is_file():
            raise ValueError(f"{path}, line {no}: audio file {audio} does not exist")
        rid = row[col["id"]] if "id" in col and row[col["id"]] else audio.stem
        if rid in first_line:
            raise ValueError(f"{path}, line {no}: duplicate recording id {rid!r} "
                             f"(first on line {first_line[rid]})")
        first_line[rid] = no
        labels, files = {}, {}
        for t in targets:
            cell = row[names.index(t.lower())]
            if not cell:
                continue
            label_file = base / cell
            if not label_file.is_file():
                raise ValueError(f"{path}, line {no}: {t} label file {label_file} does not exist")
            track, last = read_label_csv(label_file)
            check_label_duration(len(track), audio, label_file, last)
            labels[t], files[t] = track, label_file
        recordings.append(Recording(rid, row[col["speaker"]], row[col["partition"]].lower(),
                                    audio, labels, files))
    if not recordings:
        raise ValueError(f"{path}: no recordings listed")
    return Corpus(recordings, path)
