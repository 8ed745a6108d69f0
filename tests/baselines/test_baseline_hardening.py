"""Baseline windows longer than every recording are refused before anything is created."""
from __future__ import annotations

from tests.helpers.cli import tiny  # noqa: F401  (fixture)
from tinyemo.cli import main


def test_windows_beyond_the_longest_recording_are_refused(tmp_path, capsys, tiny):
    out = tmp_path / "run"
    assert main(["baseline", "--kind", "windowed", "--data", str(tiny), "--windows", "1", "100",
                 "1e6", "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --windows: 100, 1e+06 s: longer than the longest recording (30 s), whose "
        "statistics such a window would repeat for every frame; give windows of at most 30 s")
    assert not out.exists()


def test_a_sample_rate_out_of_bounds_is_refused(tmp_path, capsys, tiny):
    out = tmp_path / "run"
    assert main(["baseline", "--kind", "windowed", "--data", str(tiny), "--sample-rate", "100",
                 "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --sample-rate: must be 4000 … 192000 Hz (the front end's rate; audio at other "
        "rates is resampled to it), got 100")
    assert not out.exists()
