"""tinyemo plot: an empty CSV is one error line (no NumPy warning), a NaN column a warning."""
from __future__ import annotations

import pytest

from tinyemo.cli import main


def test_an_empty_csv_is_one_error_line(tmp_path, capsys):
    csv = tmp_path / "dev_1.csv"
    csv.write_text("time,arousal\n")
    assert main(["plot", str(csv), "--out", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {csv}: no rows (an empty predictions CSV)\n"
    assert not (tmp_path / "p.png").exists()


def test_a_nan_column_is_named(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    csv = tmp_path / "dev_1.csv"
    rows = "".join(f"{0.04 * j:.2f},{0.01 * j},nan,{0.02 * j}\n" for j in range(50))
    csv.write_text("time,arousal,valence,arousal_gold\n" + rows)
    assert main(["plot", str(csv), "--out", str(tmp_path / "p.png")]) == 0
    assert capsys.readouterr().err == (f"warning: {csv}: valence is NaN in 50 of 50 rows; those "
                                       "are not drawn\n")
