"""Run folders saved by the flat-layout tinyemo (tests/testdata/legacy, made at commit 280abac, how
in tests/testdata/README.md) still load, predict the same numbers, resume and evaluate after the
package was laid out in layers."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.helpers import DATA
from tests.helpers.cli import tiny  # noqa: F401  (a fixture: the tiny corpus in the test cache)
from tinyemo.cli.predict import predict_main
from tinyemo.cli.train import train_main
from tinyemo.runs.folder import read_config

LEGACY = DATA / "legacy"
SPEECH = DATA / "speech" / "arctic_a0007.wav"


def _assert_close(got, want, path="results.json"):
    """The same JSON keys and strings; numbers within 1e-7 (float32 rounding of the scores)."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), path
        for k in want:
            _assert_close(got[k], want[k], f"{path}/{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-7), path
    else:
        assert got == want, path


def _table(path):
    rows = path.read_text().splitlines()
    return rows[0], np.array([[float(v) for v in r.split(",")] for r in rows[1:]])


@pytest.mark.parametrize("kind", ["downup", "windowed"])
def test_a_saved_folder_predicts_what_it_predicted_before_the_move(kind, tmp_path, capsys):
    assert read_config(LEGACY / kind)["targets"] == ["arousal", "valence"]
    assert predict_main(["--model", str(LEGACY / kind), "--out", str(tmp_path), "--quiet",
                         str(SPEECH)]) == 0
    header, got = _table(tmp_path / "arctic_a0007.csv")
    want_header, want = _table(LEGACY / "expected" / f"{kind}-arctic_a0007.csv")
    assert header == want_header == "time,arousal,valence"
    assert got.shape == want.shape and got.shape[0] > 50
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)   # the CSV keeps 6 digits


@pytest.mark.slow
def test_a_saved_run_resumes_with_its_options(tiny, tmp_path, capsys):
    out = tmp_path / "downup"
    shutil.copytree(LEGACY / "downup", out)
    saved = json.loads((out / "results.json").read_text())
    args = ["--arch", "downup", "--preset", "tiny", "--runs", "2", "--epochs", "2", "--width",
            "4", "--depth", "2", "--out", str(out), "--quiet"]
    weights = {p: p.read_bytes() for p in out.rglob("*.npz")}
    logs = {p: p.read_text() for p in out.rglob("log.csv")}
    assert train_main(args + ["--resume"]) == 0
    # nothing left to train: every checkpoint and log as saved; the scores are recomputed from
    # the saved weights, the same to float32 rounding (the kernels' sums may be ordered
    # differently from the saving version's)
    assert {p: p.read_bytes() for p in out.rglob("*.npz")} == weights
    assert {p: p.read_text() for p in out.rglob("log.csv")} == logs
    _assert_close(json.loads((out / "results.json").read_text()), saved)
    assert sorted(p.name for p in (out / "predictions" / "test").iterdir()) == \
        ["test_1.csv", "test_2.csv", "test_3.csv"]
    capsys.readouterr()
    assert train_main(args) == 2     # without --resume the folder is refused, as before
    assert "--resume" in capsys.readouterr().err
