"""What a prediction returns: one recording's 40-ms track as NumPy arrays, converted on request
(``to_pandas``, ``to_csv``) — files are one writer of the data, not the result."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.data.grid import FRAME_S
from tinyemo.util.fileio import atomic_write

__all__ = ["Prediction", "require_pandas", "API_EXTRA", "csv_line"]

API_EXTRA = "pip install 'tinyemo[api]'"


def require_pandas():
    """pandas, or RuntimeError naming the extra that installs it."""
    try:
        import pandas  # optional (tinyemo[api]): the NumPy result needs nothing new
    except ImportError:
        raise RuntimeError(f"tables need pandas, which is not installed: {API_EXTRA}") from None
    return pandas


def csv_line(time: float, values) -> str:
    """One row of a prediction CSV as ``tinyemo predict`` writes it."""
    return f"{time:.2f}," + ",".join(f"{v:.6g}" for v in values) + "\n"


class Prediction:
    """One recording's track: ``values[target]`` (T,) float32, the prediction at the time
    stamps ``times`` = ``offset`` + 0.04·i s (i = 0 … T − 1; the points a 25 Hz gold standard
    labels, as in the CSVs of ``tinyemo predict``). ``offset``: where the predicted audio
    starts in ``file`` (0 for a whole file or a signal); ``duration``: its length in seconds."""

    def __init__(self, values: dict[str, np.ndarray], duration: float, offset: float = 0.0,
                 file: str | None = None):
        self.values = {t: np.asarray(v, dtype=np.float32) for t, v in values.items()}
        lengths = {v.shape for v in self.values.values()}
        if len(lengths) != 1 or len(next(iter(lengths))) != 1:
            raise ValueError(f"one (T,) track per target, got shapes {sorted(lengths)}")
        self.duration, self.offset, self.file = float(duration), float(offset), file

    @property
    def targets(self) -> list[str]:
        return list(self.values)

    def __len__(self) -> int:
        return next(iter(self.values.values())).shape[0]

    def __getitem__(self, target: str) -> np.ndarray:
        return self.values[target]

    @property
    def times(self) -> np.ndarray:
        """(T,) float64 seconds from the start of ``file`` (or of the signal)."""
        return self.offset + FRAME_S * np.arange(len(self))

    def __repr__(self) -> str:
        return (f"Prediction({len(self)} frames of {', '.join(self.targets)} every "
                f"{FRAME_S * 1000:g} ms, {self.duration:.2f} s from {self.offset:.2f} s"
                + (f" of {self.file})" if self.file else ")"))

    def to_pandas(self):
        """DataFrame: index ``start``, ``end`` (timedeltas; frame i spans its time stamp to the
        next one), one float32 column per target. Needs pandas (``tinyemo[api]``)."""
        pd = require_pandas()
        start = pd.to_timedelta(self.times, unit="s")
        end = pd.to_timedelta(self.times + FRAME_S, unit="s")
        index = pd.MultiIndex.from_arrays([start, end], names=["start", "end"])
        return pd.DataFrame(self.values, index=index)

    def to_csv(self, path: str | Path) -> Path:
        """Write ``path`` in the format of ``tinyemo predict`` (``time,<target>…``, time to
        two decimals, values to six significant digits), atomically. Returns ``path``."""
        path = Path(path)
        columns = [self.values[t].astype(np.float64) for t in self.targets]
        with atomic_write(path, "w") as f:
            f.write(",".join(["time", *self.targets]) + "\n")
            f.write("".join(csv_line(t, row) for t, row in
                            zip(self.times.tolist(), zip(*(c.tolist() for c in columns)))))
        return path
