"""The main job end to end on the `tiny` synthetic preset, then predict, evaluate and plot on
its output, and the command line's handling of bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import ROOT as REPO
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli import main
from tinyemo.cli.plot import plot_main
from tinyemo.cli.train import train_main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    out = tmp_path_factory.mktemp("runs") / "downup"
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(cache))
    rc = train_main(["--arch", "downup", "--preset", "tiny", "--runs", "2", "--epochs", "15",
                     "--patience", "15", "--out", str(out), "--quiet"])
    from tinyemo.data import default_corpus_path
    yield rc, out, default_corpus_path("tiny", 0)
    mp.undo()


def test_main_job_writes_its_outputs_and_learns(trained):
    rc, out, corpus = trained
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    assert config["arch"] == "downup" and config["seeds"] == [0, 1]
    assert config["models"]["arousal"]["width"] == 32 and config["models"]["valence"]["width"] == 128
    results = json.loads((out / "results.json").read_text())
    for target in ("arousal", "valence"):
        assert {"train", "dev", "test", "runs"} <= set(results[target])
        assert len(results[target]["runs"]) == 2
        for seed in (0, 1):
            for name in ("checkpoint.npz", "best.npz", "log.csv"):
                assert (out / target / f"seed{seed}" / name).is_file()
    # training lowers the loss
    log = (out / "arousal" / "seed0" / "log.csv").read_text().splitlines()
    losses = [float(line.split(",")[1]) for line in log[1:]]
    assert len(losses) == 15 and min(losses[-3:]) < 0.8 * losses[0]
    # and beats a constant predictor on dev (CCC 0; RMSE of the train partition's mean)
    dev_csvs = sorted((out / "predictions" / "dev").glob("*.csv"))
    assert len(dev_csvs) == 3
    gold = np.concatenate([np.loadtxt(p, delimiter=",", skiprows=1)[:, 2] for p in dev_csvs])
    train_gold = np.concatenate([np.loadtxt(p, delimiter=",", skiprows=1)[:, 2]
                                 for p in (out / "predictions" / "train").glob("*.csv")])
    constant_rmse = np.sqrt(np.mean((gold - train_gold.mean()) ** 2))
    assert results["arousal"]["dev"]["ccc"] > 0.2
    assert results["arousal"]["dev"]["rmse"] < constant_rmse
    assert "| downup |" in (out / "results.md").read_text()


def test_predict_covers_every_40ms_frame(trained, tmp_path):
    _, out, corpus = trained
    audio = corpus / "recordings_audio" / "test_1.wav"
    assert predict_main(["--model", str(out), str(audio), "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "test_1.csv").read_text().splitlines()
    duration = sf.info(str(audio)).duration
    assert rows[0] == "time,arousal,valence"
    assert len(rows) - 1 == int(duration / 0.04) + 1                 # t = 0 … end, none dropped
    assert rows[-1].startswith(f"{0.04 * (len(rows) - 2):.2f},")


def test_evaluate_and_plot(trained, tmp_path, capsys):
    _, out, corpus = trained
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--partition", "dev"]) == 0
    text = capsys.readouterr().out
    assert "Dev CCC" in text and "Test CCC" not in text and "| downup |" in text
    png = tmp_path / "fig5.png"
    csv = out / "predictions" / "dev" / "dev_1.csv"
    assert plot_main([str(csv), "--out", str(png), "--duration", "20"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_a_clear_error_and_keeps_earlier_outputs(trained, tmp_path, capsys):
    _, out, _ = trained
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, np.int16), 16000, subtype="PCM_16")
    assert predict_main(["--model", str(out), str(empty), "--out", str(tmp_path / "p")]) == 2
    assert "empty.wav" in capsys.readouterr().err
    assert predict_main(["--model", str(tmp_path), str(empty), "--out", str(tmp_path / "p")]) == 2
    assert "config.json" in capsys.readouterr().err
    # training into the same folder again without --resume refuses and changes nothing
    assert train_main(["--preset", "tiny", "--runs", "2", "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["nonsense"]) == 2


def test_a_killed_training_resumes_to_the_same_weights(trained, tmp_path):
    """SIGKILL mid-training (no chance to clean up), then --resume: the same final weights as
    an uninterrupted run of the same seed. The training process kills itself right after
    epoch 2 is saved (an on_epoch hook), so the crash point does not depend on timing."""
    import signal
    import subprocess
    import sys

    _, _, corpus = trained
    script = REPO / "scripts" / "train.py"
    common = ["--arch", "dilated", "--width", "8", "--depth", "4", "--data", str(corpus),
              "--target", "arousal", "--runs", "1", "--epochs", "8", "--patience", "8", "--quiet"]
    killed = tmp_path / "killed"
    crash_after_epoch_2 = (
        "import functools, os, runpy, signal, sys\n"
        "import tinyemo.runs.experiment as experiment\n"
        "def crash(state):\n"
        "    if state.epoch == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "experiment.train_run = functools.partial(experiment.train_run, on_epoch=crash)\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", crash_after_epoch_2, str(script), *common,
                           "--out", str(killed)], timeout=600)
    assert proc.returncode == -signal.SIGKILL
    log = (killed / "arousal" / "seed0" / "log.csv").read_text().splitlines()
    assert len(log) == 3 and log[-1].startswith("2,")      # header + epochs 1 and 2, then killed
    assert train_main([*common, "--out", str(killed), "--resume"]) == 0
    assert train_main([*common, "--out", str(tmp_path / "whole")]) == 0
    for name in ("checkpoint.npz", "best.npz"):
        with np.load(killed / "arousal" / "seed0" / name) as a, \
                np.load(tmp_path / "whole" / "arousal" / "seed0" / name) as b:
            params = [k for k in a.files if k.startswith("param/")]
            assert params
            for k in params:
                np.testing.assert_array_equal(a[k], b[k])
    assert (killed / "results.json").read_text() == (tmp_path / "whole" / "results.json").read_text()
