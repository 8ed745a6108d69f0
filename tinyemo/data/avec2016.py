"""The AVEC 2016 RECOLA layout: reader and writer.

::

    <root>/recordings_audio/{train,dev,test}_N.wav
    <root>/ratings_gold_standard/{arousal,valence}/<name>.arff   # Instance_name,frameTime,GoldStandard
    <root>/ratings_individual/{arousal,valence}/<name>.csv       # optional: time;A1;A2;...
    <root>/speakers.csv                                          # optional: id,speaker

The partition is the file name's prefix before ``_``; the speaker is the recording id (RECOLA
has one speaker per recording) unless ``speakers.csv`` says otherwise. A recording with no gold
standard file for any target (RECOLA's test partition) is kept, unlabelled. Gold-standard
frames must lie on the 40 ms grid starting at 0 (``frameTime`` = 0.04 j).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.grid import FRAME_S, GRID_TOLERANCE_S, check_label_duration, parse_number
from tinyemo.util.fileio import write_text

__all__ = ["read_avec2016", "read_arff", "read_individual_ratings", "write_arff",
           "write_individual_ratings"]

AUDIO_DIR, GOLD_DIR, INDIVIDUAL_DIR = "recordings_audio", "ratings_gold_standard", "ratings_individual"
_NAME = re.compile(r"^([A-Za-z]+)_[A-Za-z0-9_.-]+$")
_ATTRIBUTE = re.compile(r"""@attribute\s+('[^']*'|"[^"]*"|\S+)\s+(.+)$""", re.IGNORECASE)
_TOKEN = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,]*?)\s*(,|$)""")


def _split_row(line: str) -> list[str]:
    """Split one ARFF data row on commas, honouring '…' and "…" quotes; quotes are removed."""
    if "'" not in line and '"' not in line:
        return [v.strip() for v in line.split(",")]
    out = []
    for m in _TOKEN.finditer(line):
        tok = m.group(1)
        out.append(tok[1:-1] if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "'\"" else tok)
        if not m.group(2):
            break
    return out


def read_arff(path: str | Path, instance: str | None = None
              ) -> tuple[dict[str, np.ndarray], list[int]]:
    """Numeric columns of an ARFF file: ``({attribute: (N,) float64}, data line numbers)``.
    ``instance``: the recording every row's ``Instance_name`` (when the file has one) must name.

    Tolerates ``%`` comments, blank lines, CRLF, a BOM, keywords in any case, quoted values.
    Raises ValueError naming the file and line: no ``@data``, wrong column count, a
    non-numeric value in a numeric column, a missing (``?``) or NaN/infinite value.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e})") from None
    attrs: list[tuple[str, bool]] = []  # (name, numeric)
    rows: list[list[str]] = []
    lines: list[int] = []
    in_data = False
    name_at: int | None = None    # the column of Instance_name
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if not in_data:
            low = line.lower()
            if low.startswith("@relation"):
                continue
            if low.startswith("@attribute"):
                m = _ATTRIBUTE.match(line)
                if not m:
                    raise ValueError(f"{path}, line {no}: malformed @attribute: {line!r}")
                kind = m.group(2).strip().lower()
                attrs.append((m.group(1).strip("'\""), kind in ("numeric", "real", "integer")))
                continue
            if low.startswith("@data"):
                if not attrs:
                    raise ValueError(f"{path}, line {no}: no @attribute lines before @data (a "
                                     "gold-standard ARFF declares Instance_name, frameTime and "
                                     "GoldStandard)")
                in_data = True
                continue
            raise ValueError(f"{path}, line {no}: expected @relation, @attribute or @data before "
                             f"the data rows, got {line[:40]!r} (is the @data line missing?)")
        if name_at is None:
            name_at = next((c for c, (a, _) in enumerate(attrs)
                            if a.lower() == "instance_name"), None)
        if line.startswith("{"):
            raise ValueError(f"{path}, line {no}: sparse ARFF rows are not supported")
        values = _split_row(line)
        if len(values) != len(attrs):
            raise ValueError(f"{path}, line {no}: expected {len(attrs)} comma-separated values "
                             f"({', '.join(a for a, _ in attrs)}), got {len(values)}")
        if instance is not None and name_at is not None and values[name_at] != instance:
            raise ValueError(f"{path}, line {no}: Instance_name {values[name_at]!r} is another "
                             f"recording than this file's {instance!r}")
        rows.append(values)
        lines.append(no)
    if not in_data:
        raise ValueError(f"{path}: no @data section")
    if not rows:
        raise ValueError(f"{path}: no data rows after @data")
    columns: dict[str, np.ndarray] = {}
    for c, (name, numeric) in enumerate(attrs):
        if not numeric:
            continue
        columns[name] = np.array([parse_number(values[c], path, no, name, missing="?")
                                  for values, no in zip(rows, lines)])
    return columns, lines


def _gold_track(path: Path) -> tuple[np.ndarray, int]:
    """(T,) float32 gold standard of an AVEC ARFF on the 40 ms grid, and its last line."""
    cols, lines = read_arff(path, instance=path.stem)
    by_lower = {k.lower(): k for k in cols}
    time_key = by_lower.get("frametime") or by_lower.get("time")
    if time_key is None:
        raise ValueError(f"{path}: no numeric frameTime attribute")
    value_key = by_lower.get("goldstandard") or next(
        (k for k in reversed(list(cols)) if k != time_key), None)
    if value_key is None:
        raise ValueError(f"{path}: no numeric GoldStandard attribute")
    t = cols[time_key]
    bad = np.nonzero(np.abs(t - FRAME_S * np.arange(len(t))) > GRID_TOLERANCE_S)[0]
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"{path}, line {lines[j]}: frameTime {t[j]:g} is not on the 40 ms label "
                         f"grid (row {j} should be at {FRAME_S * j:.2f} s; labels must start at "
                         f"0 and step by 0.04 s)")
    return cols[value_key].astype(np.float32), lines[-1]


def read_individual_ratings(root: str | Path, name: str, target: str
                            ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One recording's individual annotations: ``ratings_individual/<target>/<name>.csv``.

    Returns ``(times (T,) float64 s, ratings (T, A) float32, annotator names)``. The file is
    ``;``-separated with a header: a time column, then one column per annotator.
    """
    path = Path(root) / INDIVIDUAL_DIR / target / f"{name}.csv"
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [(no, row) for no, row in enumerate(csv.reader(f, delimiter=";"), start=1)
                if any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [c.strip() for c in rows[0][1]]
    if len(header) < 2:
        raise ValueError(f"{path}, line {rows[0][0]}: expected a ';'-separated header "
                         f"(time;annotator1;...), got {';'.join(header)!r}")
    data = np.empty((len(rows) - 1, len(header)))
    for r, (no, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {no}: expected {len(header)} ';'-separated values, "
                             f"got {len(row)}")
        data[r] = [parse_number(tok, path, no, header[c]) for c, tok in enumerate(row)]
    return data[:, 0], data[:, 1:].astype(np.float32), header[1:]


def _read_speakers(root: Path) -> dict[str, str]:
    path = root / "speakers.csv"
    if not path.is_file():
        return {}
    out = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        for no, row in enumerate(csv.reader(f), start=1):
            if not any(c.strip() for c in row) or (no == 1 and [c.strip().lower() for c in row] == ["id", "speaker"]):
                continue
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                raise ValueError(f"{path}, line {no}: expected 'id,speaker', got {','.join(row)!r}")
            out[row[0].strip()] = row[1].strip()
    return out


def read_avec2016(root: str | Path) -> Corpus:
    """Read a corpus in the AVEC 2016 layout (see the module docstring)."""
    root = Path(root)
    audio_dir, gold_dir = root / AUDIO_DIR, root / GOLD_DIR
    if not root.is_dir():
        raise ValueError(f"{root}: no such corpus folder")
    if not audio_dir.is_dir():
        raise ValueError(f"{audio_dir}: missing folder (AVEC 2016 layout: {AUDIO_DIR}/<partition>_N.wav)")
    wavs = sorted(p for p in audio_dir.iterdir() if p.suffix.lower() == ".wav")
    if not wavs:
        raise ValueError(f"{audio_dir}: no .wav files")
    if not gold_dir.is_dir():
        raise ValueError(f"{gold_dir}: missing folder (AVEC 2016 layout: {GOLD_DIR}/<target>/<name>.arff)")
    targets = sorted(p.name for p in gold_dir.iterdir() if p.is_dir())
    if not targets:
        raise ValueError(f"{gold_dir}: no target folders (e.g. arousal/, valence/)")
    names = {p.stem for p in wavs}
    for t in targets:
        for arff in sorted((gold_dir / t).glob("*.arff")):
            if arff.stem not in names:
                raise ValueError(f"{arff}: no matching audio {audio_dir / (arff.stem + '.wav')}")
    speakers = _read_speakers(root)
    recordings = []
    for wav in sorted(wavs, key=_natural_key):
        m = _NAME.match(wav.stem)
        if not m:
            raise ValueError(f"{wav}: expected a name like train_1.wav (<partition>_<number>)")
        found = {t: gold_dir / t / f"{wav.stem}.arff" for t in targets}
        present = {t: p for t, p in found.items() if p.is_file()}
        if present and len(present) < len(found):
            missing = next(p for t, p in found.items() if t not in present)
            raise ValueError(f"{missing}: missing (the recording has labels for "
                             f"{', '.join(present)} but not for this target)")
        labels = {}
        for t, p in present.items():
            track, last_line = _gold_track(p)
            check_label_duration(len(track), wav, p, last_line)
            labels[t] = track
        recordings.append(Recording(wav.stem, speakers.get(wav.stem, wav.stem), m.group(1).lower(),
                                    wav, labels, present))
    return Corpus(recordings, root)


def _natural_key(p: Path):
    """train_2 before train_10; partitions in train, dev, test order, then others."""
    part, _, rest = p.stem.partition("_")
    order = {"train": 0, "dev": 1, "test": 2}.get(part.lower(), 3)
    return order, part, [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", rest)]


def write_arff(path: str | Path, name: str, values: np.ndarray) -> None:
    """Write a gold-standard ARFF as AVEC 2016 does: (T,) values at frameTime 0.04 j."""
    rows = "".join(f"{name},{FRAME_S * j:.2f},{v:.6f}\n" for j, v in enumerate(np.asarray(values)))
    write_text(path, "@relation GoldStandard\n\n@attribute Instance_name string\n"
               "@attribute frameTime numeric\n@attribute GoldStandard numeric\n\n@data\n\n" + rows)


def write_individual_ratings(path: str | Path, ratings: np.ndarray, annotators: list[str]) -> None:
    """Write (T, A) ratings as a ';'-separated CSV: ``time;<annotator>...`` at 0.04 j s."""
    ratings = np.asarray(ratings)
    lines = [";".join(["time", *annotators])]
    lines += [f"{FRAME_S * j:.2f};" + ";".join(f"{v:.6f}" for v in row) for j, row in enumerate(ratings)]
    write_text(path, "\n".join(lines) + "\n")
