"""The paper's experiment scripts end to end in their --quick setting (tiny synthetic corpus,
one run, two epochs), each in a fresh process as a user runs them: the files they promise
exist and hold numbers in range."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ROOT as REPO
from tinyemo.data import PRESETS

ROOT = REPO
TARGETS = ("arousal", "valence")
TINY = PRESETS["tiny"]
FRAMES = int(round(TINY.duration_s / 0.04)) + 1


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A private cache, so the tiny corpus and its features are generated there."""
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "TINYEMO_CACHE": str(cache), "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def tables_out(env, tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    _run("tables.py", out, env)
    return out


def _run(script: str, out: Path, env: dict, *extra: str) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick", "--out",
                           str(out), "--threads", "1", *extra], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def _is_ccc(v) -> bool:
    return isinstance(v, float) and -1.0 <= v <= 1.0


def test_fig1_receptive_field(env, tmp_path):
    _run("fig1_receptive_field.py", tmp_path, env)
    res = json.loads((tmp_path / "fig1.json").read_text())
    assert res["lengths"] == [2, 8, 32] and res["setting"]["preset"] == "tiny"
    for t in TARGETS:
        assert len(res[t]["mean"]) == len(res[t]["std"]) == len(res[t]["runs"]) == 3
        assert all(_is_ccc(v) for v in res[t]["mean"]) and all(s >= 0 for s in res[t]["std"])
        assert res[t]["best_length"] in res["lengths"]
    rows = (tmp_path / "fig1.csv").read_text().splitlines()
    assert rows[0].startswith("L,") and len(rows) == 4
    assert (tmp_path / "runs" / "L32" / "results.json").is_file()
    _png(tmp_path / "fig1.png")


def test_fig4_label_smoothness(env, tmp_path):
    out = _run("fig4_label_smoothness.py", tmp_path, env)
    res = json.loads((tmp_path / "fig4.json").read_text())
    assert res["targets"] == list(TARGETS) and res["partitions"] == ["train", "dev"]
    for t in TARGETS:
        s = res[t]
        assert 0.95 < s["power_below_1hz"] <= 1.0       # the generator's labels are slow
        assert s["power_above_1hz"] == pytest.approx(1 - s["power_below_1hz"])
        n = TINY.n_train + TINY.n_dev
        assert s["recordings"] == n and s["frames"] == n * FRAMES
        cc = s["spline_rebuild_ccc"]
        assert list(cc) == ["2", "4", "8", "16", "32", "64", "128"]
        assert cc["2"] > 0.999 and cc["64"] > 0.95 and all(_is_ccc(v) for v in cc.values())
        assert cc["128"] <= cc["2"]                     # coarser knots lose detail
        assert 0.5 < s["acf_halftime_s"] < 10
        assert s["acf_halftime_s"] == np.median(s["acf_halftime_s_per_recording"])
        assert 0 < s["annotator_ccc_per_recording_mean"] < 1 and 0 < s["annotator_ccc_concatenated"] < 1
    assert res["recola_measured"]["valence"]["spline_rebuild_ccc"]["128"] == 0.937
    assert "f=64" in out and "recordings concatenated" in out and "mean of per-recording" in out
    assert len((tmp_path / "fig4.csv").read_text().splitlines()) == 8
    _png(tmp_path / "fig4.png")


def test_tables(tables_out):
    res = json.loads((tables_out / "tables.json").read_text())
    names = ["framewise", "single-L16", "dilated", "downup", "blstm"]
    assert list(res["raw"]) == names + ["avec2016", "windowed"]
    assert res["models"]["framewise"]["overrides"] == {"depth": 1, "kernel_size": 1}
    assert res["models"]["avec2016"] == {"baseline": "avec2016"}
    assert res["literature_dev_ccc"]["AVEC 2016 baseline (eGeMAPS + SVR)"] == [0.796, 0.455]
    for n in ("avec2016", "windowed"):          # the baselines' rows: fitted, scored, plotted
        for t in TARGETS:
            for part in ("dev", "test"):
                assert _is_ccc(res["raw"][n][t][part]["ccc"])
                assert _is_ccc(res["postprocessed"][n][t][part]["ccc"])
        assert (tables_out / n / "config.json").is_file() and n not in res["run_dev_ccc"]
    for n in names:
        for t in TARGETS:
            for part in ("dev", "test"):
                for which in ("raw", "postprocessed"):
                    m = res[which][n][t][part]
                    assert _is_ccc(m["ccc"]) and 0 < m["rmse"] < 2
            chosen = res["postprocess"][n][t]
            assert {"shift", "median", "scaling", "steps", "history"} <= set(chosen)
            # post-processing is kept only if it raises dev CCC: dev never gets worse
            assert (res["postprocessed"][n][t]["dev"]["ccc"]
                    >= res["raw"][n][t]["dev"]["ccc"] - 1e-9)
            assert len(res["run_dev_ccc"][n][t]) == 1
    md = (tables_out / "tables.md").read_text()
    assert md.count("| Dev RMSE | Dev CCC | Test RMSE | Test CCC |") == 4   # 2 targets × 2
    assert "| downup |" in md and "| blstm |" in md and "post-processing" in md
    assert md.count("| windowed |") == 5 and "Povolny et al." in md  # 2 × 2 tables + steps
    assert (tables_out / "dilated" / "predictions" / "dev" / "dev_1.csv").is_file()
    _png(tables_out / "tables.png")


def test_fig5_smooth_outputs_from_trained_folders(env, tables_out, tmp_path):
    out = _run("fig5_smooth_outputs.py", tmp_path, env, "--dilated", str(tables_out / "dilated"),
               "--downup", str(tables_out / "downup"), "--duration", "5")
    res = json.loads((tmp_path / "fig5.json").read_text())
    assert res["recordings"] == [f"dev_{k}" for k in range(1, TINY.n_dev + 1)]
    assert res["plotted"]["recording"] == "dev_1"
    assert res["plotted"]["end_s"] == pytest.approx(4.96)
    for t in TARGETS:
        for who in ("gold", "dilated", "downup"):
            s = res["smoothness"][t][who]
            assert 0 <= s["power_above_1hz"] <= 1 and s["mean_abs_change"] >= 0
        assert res["smoothness"][t]["gold"]["power_above_1hz"] < 0.05
        assert _is_ccc(res["dev_ccc"][t]["downup"])
    rows = (tmp_path / "fig5.csv").read_text().splitlines()
    assert rows[0] == ("time,arousal_gold,arousal_dilated,arousal_downup,"
                       "valence_gold,valence_dilated,valence_downup") and len(rows) == 126
    assert "power above 1 Hz" in out
    _png(tmp_path / "fig5.png")


def test_tables_with_descriptor_features(env, tmp_path):
    """``--features`` gives the nets openSMILE's descriptors (the baselines keep theirs)."""
    pytest.importorskip("opensmile")
    _run("tables.py", tmp_path, env, "--features", "lld", "--models", "framewise")
    res = json.loads((tmp_path / "tables.json").read_text())
    assert res["setting"]["features"] == "lld"
    config = json.loads((tmp_path / "framewise" / "config.json").read_text())
    assert config["features"] == "lld" and config["models"]["arousal"]["in_channels"] == 100
    assert all(_is_ccc(res["raw"]["framewise"][t]["dev"]["ccc"]) for t in TARGETS)
