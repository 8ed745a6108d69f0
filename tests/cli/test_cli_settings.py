"""Every `tinyemo train` option added for model selection, end to end (1–2 epochs, tiny
shapes), then evaluate/predict on the folders, and bad settings refused before anything is
created."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli.train import train_main
from tinyemo.data import generate
from tinyemo.serve import load as load_module

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Eight 12-s recordings; train_1/train_2 and dev_1/dev_2 share a speaker each, so per-speaker
    and per-recording normalisation differ."""
    root = generate(tmp_path_factory.mktemp("corpus") / "c", "tiny", seed=2, n_train=4, n_dev=2,
                    n_test=2, duration_s=12.0, workers=1)
    (root / "speakers.csv").write_text("id,speaker\ntrain_1,a\ntrain_2,a\ndev_1,b\ndev_2,b\n")
    return root


@pytest.fixture
def spy_normalise(monkeypatch):
    """Records the ``normalise`` that predict/evaluate prepare new audio with."""
    seen = []
    real = load_module.prepare

    def prepare(*args, **kwargs):
        seen.append(kwargs.get("normalise"))
        return real(*args, **kwargs)
    monkeypatch.setattr(load_module, "prepare", prepare)
    return seen


DILATED = ["--arch", "dilated", "--width", "4", "--depth", "3", "--kernel-size", "2,3,2",
           "--activation", "tanh", "--init", "xavier", "--dropout", "0.2",
           "--dropout-mode", "channel", "--input-average", "1", "--l2", "0.04",
           "--decoupled-weight-decay", "0.01", "--clip-grad-norm", "1", "--lr-schedule",
           "plateau", "--lr-factor", "0.5", "--lr-patience", "0", "--min-lr", "1e-4",
           "--selection", "budget", "--patience", "1", "--epochs", "2", "--input-noise", "0.1",
           "--time-masks", "2", "--time-mask-seconds", "1", "--normalise", "recording"]


def test_every_training_and_model_option_end_to_end(corpus, tmp_path, capsys, spy_normalise):
    out = tmp_path / "dilated"
    assert train_main([*DILATED, "--data", str(corpus), "--runs", "1", "--target", "arousal",
                       "--out", str(out), "--quiet"]) == 0
    config = json.loads((out / "config.json").read_text())
    model = config["models"]["arousal"]
    assert model["kernel_size"] == [2, 3, 2] and model["activation"] == "tanh"
    assert model["init"] == "xavier" and model["dropout"] == 0.2
    assert model["dropout_mode"] == "channel" and model["input_average"] == 1.0
    assert config["normalise"] == "recording"
    assert config["train"] | {"l2": 0.04, "decoupled_weight_decay": 0.01, "clip_grad_norm": 1.0,
                              "lr_schedule": "plateau", "lr_factor": 0.5, "lr_patience": 0,
                              "min_lr": 1e-4, "selection": "budget", "input_noise": 0.1,
                              "time_masks": 2, "time_mask_seconds": 1.0} == config["train"]
    log = (out / "arousal" / "seed0" / "log.csv").read_text().splitlines()
    assert log[0].endswith(",lr") and len(log) == 3          # budget: both epochs, patience 1
    # evaluate prepares the dev audio as training did (per recording) and scores the same
    capsys.readouterr()
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--partition", "dev"]) == 0
    assert spy_normalise == ["recording"]
    row = [line for line in capsys.readouterr().out.splitlines() if "| dilated |" in line][0]
    results = json.loads((out / "results.json").read_text())["arousal"]["dev"]
    assert row.split("|")[2:4] == [f" {results['rmse']:.3f} ", f" {results['ccc']:.3f} "]


DOWNUP = ["--arch", "downup", "--width", "4", "--depth", "2", "--pool", "2", "--up-kernel-size",
          "4", "--kernel-size", "4,4,1", "--dropout", "0.1", "--dropout-mode", "element",
          "--input-average", "0.5", "--epochs", "1"]


def test_downup_options_end_to_end_and_predict(corpus, tmp_path):
    out = tmp_path / "downup"
    assert train_main([*DOWNUP, "--data", str(corpus), "--runs", "1", "--out", str(out),
                       "--quiet"]) == 0
    model = json.loads((out / "config.json").read_text())["models"]["valence"]
    assert (model["pool"], model["up_kernel_size"], model["kernel_size"]) == (2, 4, [4, 4, 1])
    audio = corpus / "recordings_audio" / "test_1.wav"
    assert predict_main(["--model", str(out), str(audio), "--out", str(tmp_path / "p")]) == 0
    rows = np.loadtxt(tmp_path / "p" / "test_1.csv", delimiter=",", skiprows=1)
    assert rows.shape == (301, 3) and np.isfinite(rows).all()
    # predict (bounded memory, each file its own speaker) equals the whole-file computation
    # through the moving average, the per-level kernels and dropout (off in evaluation)
    from tinyemo.data.corpus import Corpus, Recording
    from tinyemo.data.examples import prepare
    from tinyemo.frontend import FbankOptions
    from tinyemo.runs.ensemble import Ensemble
    ensemble = Ensemble(out)
    one = Corpus([Recording("test_1", "test_1", "predict", audio)])
    examples = list(prepare(one, FbankOptions(**ensemble.config["fbank"]), cache=False).values())
    for j, target in enumerate(ensemble.targets, 1):
        np.testing.assert_allclose(rows[:, j], ensemble.predict(examples, target)[0][0],
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options, message", [
    (["--pool", "3", "--up-kernel-size", "2"], "error: --up-kernel-size: must be >= 3"),
    (["--arch", "dilated", "--pool", "2"], "error: --pool: the dilated architecture does not"),
    (["--activation", "sigmoid"], "error: --activation: must be one of relu, tanh"),
    (["--dropout", "1.5"], "error: --dropout: must be in [0, 1), got 1.5"),
    (["--lr-schedule", "cosine"], "error: --lr-schedule: must be one of constant, plateau"),
    (["--normalise", "corpus"], "error: --normalise: must be one of speaker, recording"),
    (["--selection", "last"], "error: --selection: must be one of patience, budget"),
    (["--kernel-size", "3,3"], "error: --kernel-size: a list needs"),
])
def test_bad_settings_are_refused_before_anything_is_created(tmp_path, monkeypatch, capsys,
                                                             options, message):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert train_main(["--preset", "tiny", "--out", str(out), "--quiet", *options]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "cache").exists()   # no corpus generated either
