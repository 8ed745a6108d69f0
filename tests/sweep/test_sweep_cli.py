"""``tinyemo sweep`` end to end: README's example on the tiny preset into a final folder that
predict/evaluate/plot accept; a sweep SIGKILLed mid-trial and resumed on other executors ends
where an uninterrupted one does; bad input is one line and leaves nothing behind."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT as REPO
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli import main
from tinyemo.cli.plot import plot_main
from tinyemo.data import generate

from tests.helpers.sweep import read_trials

pytestmark = pytest.mark.slow
ROOT = REPO
SPACE = """
depth = 2
width = [4, 8]
lr = { low = 1e-3, high = 1e-2, log = true }
epochs = 5
patience = 5
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(cache))
    root = generate(tmp_path_factory.mktemp("corpus") / "c", "tiny", n_train=3, n_dev=2,
                    n_test=2, duration_s=10.0)
    yield root, cache
    mp.undo()


def test_readme_example_on_the_tiny_preset_then_predict_evaluate_plot(corpus, tmp_path, capsys):
    out, baseline = tmp_path / "sweep", tmp_path / "windowed"
    assert main(["baseline", "--kind", "windowed", "--preset", "tiny", "--target", "arousal",
                 "--threads", "1", "--quiet", "--out", str(baseline)]) == 0
    rc = main(["sweep", str(ROOT / "examples" / "sweep-tiny.toml"), "--preset", "tiny",
               "--data-seed", "0", "--target", "arousal", "--trials", "3", "--sampler", "random",
               "--pruner", "halving", "--seeds-per-trial", "1", "--runs", "1", "--seed", "2",
               "--device", "cpu", "--threads", "1", "--out", str(out),
               "--compare", str(baseline)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "# Sweep results" in text and f"sweep in {out}" in text
    # the baseline's own scores stand in the report beside the chosen settings'
    scores = json.loads((baseline / "results.json").read_text())["arousal"]
    row = f"| arousal | windowed | {scores['dev']['ccc']:.3f} | {scores['test']['ccc']:.3f} |"
    assert row in (out / "results.md").read_text().splitlines()
    assert len(read_trials(out)) == 3
    best = json.loads((out / "best.json").read_text())["arousal"]
    final = Path(best["final"]["folder"])
    assert json.loads((final / "config.json").read_text())["seeds"] == [2]
    assert best["final"]["dev"]["ccc"] > 0.1          # arousal is learnt on the tiny corpus
    audio = Path(json.loads((final / "config.json").read_text())["data"]["root"]) \
        / "recordings_audio" / "test_1.wav"
    assert predict_main(["--model", str(final), str(audio), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "test_1.csv").read_text().startswith("time,arousal\n")
    assert evaluate_main(["--model", str(final), "--data", str(audio.parents[1])]) == 0
    assert "| downup |" in capsys.readouterr().out
    png = tmp_path / "dev_1.png"
    assert plot_main([str(final / "predictions" / "dev" / "dev_1.csv"), "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_killed_sweep_resumes_on_other_executors_to_the_uninterrupted_result(corpus, tmp_path):
    root, _ = corpus
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    common = [str(space), "--data", str(root), "--target", "arousal", "--trials", "3",
              "--sampler", "random", "--seeds-per-trial", "2", "--runs", "1", "--threads", "1",
              "--quiet"]
    assert main(["sweep", *common, "--dask-local", "2", "--out", str(tmp_path / "whole")]) == 0
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "sweep.py"), *common,
                             "--out", str(cut)], env=dict(os.environ, PYTHONUNBUFFERED="1"))
    log = cut / "trials" / "arousal" / "0001" / "seed1" / "log.csv"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not log.exists():
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "trials" / "arousal" / "0001" / "result.json").exists()
    assert main(["sweep", *common, "--workers", "2", "--out", str(cut), "--resume"]) == 0
    rows = read_trials(cut, drop=("seconds",))
    assert [r["attempts"] for r in rows] == ["1", "2", "1"]
    assert read_trials(cut) == read_trials(tmp_path / "whole")
    a, b = (json.loads((d / "best.json").read_text()) for d in (cut, tmp_path / "whole"))
    assert a["arousal"]["final"]["dev"] == b["arousal"]["final"]["dev"]
    assert a["arousal"]["final"]["test"] == b["arousal"]["final"]["test"]


def test_folds_final_on_train_dev_waiting_pruner_and_the_one_se_rule_from_the_command_line(corpus, tmp_path, capsys):
    root, _ = corpus
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    common = [str(space), "--data", str(root), "--target", "arousal", "--trials", "3",
              "--sampler", "random", "--seeds-per-trial", "1", "--threads", "1", "--quiet"]
    assert main(["sweep", *common, "--runs", "1", "--selection-folds", "2", "--pruner",
                 "halving", "--prune-after", "2", "--final-on", "train+dev", "--final-defaults",
                 "--out", str(tmp_path / "folds")]) == 0
    final = json.loads((tmp_path / "folds" / "best.json").read_text())["arousal"]["final"]
    assert final["trained_on"] == "train+dev" and final["epochs"] >= 1 and "dev" not in final
    # the defaults' final runs on train + dev too, for the defaults trial's median best epoch
    against = final["against_defaults"]
    assert against["defaults"]["folder"] == str(tmp_path / "folds" / "final-arousal-defaults")
    assert against["defaults_epochs"] >= 1 and "defaults_dev" not in against
    folds = json.loads((tmp_path / "folds" / "folds.json").read_text())
    assert sorted(folds) == ["fold0", "fold1"] and sum(map(len, folds.values())) == 5
    rows = read_trials(tmp_path / "folds")
    assert all(int(e) >= 2 for r in rows for e in r["epochs_trained"].split(";"))
    assert all(len(r["dev_ccc_seeds"].split(";")) == 2 for r in rows if r["status"] == "complete")
    assert main(["sweep", *common, "--runs", "0", "--choose", "simplest-within-1se",
                 "--out", str(tmp_path / "onese")]) == 0
    luck = json.loads((tmp_path / "onese" / "best.json").read_text())["arousal"]["luck"]
    assert luck["rule"] == "simplest-within-1se" and luck["chosen"]["trial"] in (0, 1, 2)
    assert "## How much is luck" in (tmp_path / "onese" / "results.md").read_text()
    # --resume without --trials keeps the sweep's own 3 (not the default 20)
    again = [a for a in common if a not in ("--trials", "3")]
    assert main(["sweep", *again, "--runs", "0", "--choose", "simplest-within-1se", "--resume",
                 "--out", str(tmp_path / "onese")]) == 0
    assert len(read_trials(tmp_path / "onese")) == 3
    capsys.readouterr()


def test_bad_input_is_one_line_and_creates_nothing(corpus, tmp_path, capsys):
    root, _ = corpus
    space = tmp_path / "space.toml"
    space.write_text("width = [4, 8]\ncolour = 'red'\n")
    out = tmp_path / "never"
    bad, huge = tmp_path / "bad.toml", tmp_path / "huge.toml"
    bad.write_text('activation = ["relu", "sigmoid"]\n')
    huge.write_text("width = { low = 4, high = 100000000 }\n")
    cases = [
        ([str(space), "--data", str(root)], rf"{space}: unknown setting 'colour'; allowed: "),
        ([str(tmp_path / "none.toml"), "--data", str(root)], "none.toml: no such space file"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--sampler", "grid"],
         "sweep-tiny.toml: lr: a grid search needs choices"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--workers", "0"],
         "--workers must be >= 1"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--manifest", "m.csv"],
         "give --data or --manifest, not both"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(tmp_path / "nodata")],
         "nodata: no such corpus folder"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--resume"],
         "--resume needs --out"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--trials", "0"],
         "--trials must be >= 1, got 0"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--prune-after", "3"],
         "--prune-after needs a pruner (--pruner halving or hyperband)"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--final-on",
          "train+dev"], "--final-on train+dev needs --selection-folds"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--runs", "0",
          "--final-defaults"], "--final-defaults needs final runs (--runs >= 1)"),
        ([str(bad), "--data", str(root)], f"{bad}: activation: choice 'sigmoid' is invalid in "
                                          f"every trial"),
        ([str(huge), "--data", str(root), "--sampler", "grid"],
         f"{huge}: the grid has 99,999,997 points"),
        ([str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root), "--compare",
          str(tmp_path)], f"--compare {tmp_path}: cannot read {tmp_path / 'results.json'} "
         f"(no such file); give folders written by tinyemo train or tinyemo baseline"),
    ]
    for args, message in cases:
        assert main(["sweep", *args, "--out", str(out)] if "--resume" not in args
                    else ["sweep", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
        assert not out.exists()
    start = time.monotonic()
    assert main(["sweep", str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root),
                 "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)]) == 2
    assert "no Dask scheduler answered within 5 s" in capsys.readouterr().err
    assert time.monotonic() - start < 20 and not out.exists()
    with socket.socket() as silent:       # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        assert main(["sweep", str(ROOT / "examples" / "sweep-tiny.toml"), "--data", str(root),
                     "--scheduler", f"tcp://127.0.0.1:{silent.getsockname()[1]}",
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --scheduler tcp://127.0.0.1:") and err.count("\n") == 1
    assert "not a Dask scheduler (it accepted the connection, then: no answer)" in err
    assert time.monotonic() - start < 20 and not out.exists()


def test_every_sweep_option_runs_in_these_tests():
    """Each option of ``tinyemo sweep`` appears in a command line above."""
    from tinyemo.cli.sweep import sweep_parser as _parser
    options = {max(a.option_strings, key=len) if a.option_strings else a.dest
               for a in _parser()._actions if a.dest != "help"}
    text = Path(__file__).read_text()
    assert {o for o in options if o != "space" and f'"{o}"' not in text} == set()
