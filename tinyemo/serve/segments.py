"""Intervals of a recording to summarise its 40-ms track over: windows (``window``/``hop``
seconds), a CSV table (``file,start,end`` in seconds), an RTTM file from a diariser, or a
DataFrame with those columns. A segment's value for a target is the mean (and, on request, the
standard deviation) of the track at the time stamps t = 0.04·i that fall in [start, end): the
frames the gold standard would label there. Every segment is checked before any audio is
read; errors name the table and its line."""
from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyemo.data.grid import FRAME_EPS, FRAME_S
from tinyemo.util.notices import warn

__all__ = ["Segment", "Windows", "read_segments", "segments_of_frame", "window_segments",
           "check_segments", "segment_statistics", "ON_SHORT"]

ON_SHORT = ("error", "skip")


@dataclass(frozen=True)
class Windows:
    """Windows of ``window`` seconds every ``hop`` seconds from t = 0; the last one ends at or
    before the end of the file (a file shorter than one window: one window over all of it)."""
    window: float
    hop: float

    def __post_init__(self):
        for name in ("window", "hop"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and value >= FRAME_S - FRAME_EPS):
                raise ValueError(f"segments: {name} must be at least {FRAME_S} s (one frame), "
                                 f"got {value!r}")


@dataclass(frozen=True)
class Segment:
    """[start, end) seconds of ``file``; ``where``: the table and line it came from (for errors);
    ``speaker``: an RTTM's speaker label."""
    file: str
    start: float
    end: float
    where: str = field(default="", compare=False)
    speaker: str | None = None


def window_segments(file: str, duration: float, windows: Windows) -> list[Segment]:
    n = max(1, int(math.floor((duration - windows.window) / windows.hop + FRAME_EPS)) + 1)
    return [Segment(file, k * windows.hop, min(k * windows.hop + windows.window, duration))
            for k in range(n)]


def read_segments(path: str | Path) -> list[Segment]:
    """A segment table: RTTM (``*.rttm``: ``SPEAKER <file id> <channel> <onset> <duration> …
    <speaker> …``; the file id is the audio file's name without its extension) or CSV with
    columns ``file,start,end`` in seconds (more columns are ignored)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such segment table")
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    if path.suffix.lower() == ".rttm":
        return _read_rttm(path, lines)
    rows = list(csv.reader(lines))
    header = [h.strip() for h in rows[0]] if rows else []
    missing = [c for c in ("file", "start", "end") if c not in header]
    if missing:
        raise ValueError(f"{path}: line 1: a segment table needs the columns file,start,end "
                         f"(missing {', '.join(missing)})")
    col = {c: header.index(c) for c in ("file", "start", "end")}
    out = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}: line {number}"
        if len(row) <= max(col.values()):
            raise ValueError(f"{where}: {len(row)} columns, the header has {len(header)}")
        out.append(Segment(row[col["file"]].strip(), _seconds(row[col["start"]], where),
                           _seconds(row[col["end"]], where), where))
    return out


def _read_rttm(path: Path, lines: list[str]) -> list[Segment]:
    out = []
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts or parts[0].startswith((";", "#")) or parts[0] != "SPEAKER":
            continue
        where = f"{path}: line {number}"
        if len(parts) < 8:
            raise ValueError(f"{where}: an RTTM SPEAKER line has at least 8 fields, got "
                             f"{len(parts)}")
        onset, length = _seconds(parts[3], where), _seconds(parts[4], where)
        out.append(Segment(parts[1], onset, onset + length, where, speaker=parts[7]))
    return out


def segments_of_frame(frame) -> list[Segment]:
    """Segments from a DataFrame with columns (or index levels) ``file``, ``start``, ``end``
    (seconds or timedeltas; an end of NaT or NaN, as audformat writes it, is the file's end)."""
    names = list(frame.index.names) if frame.index.nlevels > 1 else []
    if set(("file", "start", "end")) <= set(names):
        frame = frame.reset_index()
    missing = [c for c in ("file", "start", "end") if c not in frame.columns]
    if missing:
        raise ValueError(f"index: missing the columns {', '.join(missing)}")
    out = []
    for number, (file, start, end) in enumerate(zip(frame["file"], frame["start"],
                                                     frame["end"])):
        where = f"index: row {number}"
        end = math.inf if _missing(end) else _seconds(end, where)   # audformat: NaT = to the end
        out.append(Segment(str(file), _seconds(start, where), end, where))
    return out


def _missing(value) -> bool:
    try:
        return value != value or str(value) == "NaT"          # NaN and NaT
    except (TypeError, ValueError):
        return False


def _seconds(value, where: str) -> float:
    if hasattr(value, "total_seconds"):          # a timedelta
        value = value.total_seconds()
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a time in seconds") from None
    if not math.isfinite(seconds):
        raise ValueError(f"{where}: time {value!r} is not finite")
    return seconds


def check_segments(segments: list[Segment], duration: float, on_short: str) -> list[bool]:
    """Errors for segments that end before they start or lie outside [0, ``duration``] (an
    open end, ``inf``, is set to ``duration`` in ``segments``); for
    segments shorter than one frame, an error (``on_short="error"``) or a warning (``"skip"``:
    their row holds NaN). Returns which segments are kept."""
    if on_short not in ON_SHORT:
        raise ValueError(f"on_short must be one of {', '.join(ON_SHORT)}, got {on_short!r}")
    keep = []
    for k, seg in enumerate(segments):
        if seg.end == math.inf:                            # open end: the file's end
            seg = segments[k] = dataclasses.replace(seg, end=duration)
        where = seg.where or f"{seg.file}: segment {seg.start:g}–{seg.end:g} s"
        if seg.end <= seg.start:
            raise ValueError(f"{where}: segment of {seg.file} ends ({seg.end:g} s) before it "
                             f"starts ({seg.start:g} s)")
        if seg.start < 0 or seg.end > duration + FRAME_EPS:
            raise ValueError(f"{where}: segment {seg.start:g}–{seg.end:g} s lies outside "
                             f"{seg.file} (0–{duration:g} s)")
        short = seg.end - seg.start < FRAME_S - FRAME_EPS
        if short and on_short == "error":
            raise ValueError(f"{where}: segment {seg.start:g}–{seg.end:g} s of {seg.file} is "
                             f"shorter than one frame ({FRAME_S} s); on_short='skip' gives it "
                             f"a row of NaN")
        if short:
            warn(f"{where}: segment {seg.start:g}–{seg.end:g} s of {seg.file} is shorter than "
                 f"one frame ({FRAME_S} s): its row is NaN")
        keep.append(not short)
    return keep


def segment_statistics(track: np.ndarray, offset: float, segments: list[Segment],
                       keep: list[bool], std: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(S,) float32 means (and standard deviations, population) of ``track`` (a track whose
    frame i is at ``offset`` + 0.04·i s) over the time stamps in each segment's
    [start, end); NaN for segments not kept."""
    mean = np.full(len(segments), np.nan, np.float32)
    dev = np.full(len(segments), np.nan, np.float32) if std else None
    for k, (seg, kept) in enumerate(zip(segments, keep)):
        first = max(0, math.ceil((seg.start - offset) / FRAME_S - FRAME_EPS))
        stop = min(track.shape[0], math.ceil((seg.end - offset) / FRAME_S - FRAME_EPS))
        if kept and stop > first:
            frames = track[first:stop].astype(np.float64)
            mean[k] = frames.mean()
            if std:
                dev[k] = frames.std()
    return mean, dev
