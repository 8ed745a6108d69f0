"""The BLSTM reference model (``--arch blstm``): its configuration, size, receptive field and
gradients, and train → predict → evaluate end to end on the tiny preset."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli.train import train_main
from tinyemo.engine import functional as F
from tinyemo.models.config import ARCHITECTURES, ModelConfig
from tinyemo.models.context import receptive_field
from tinyemo.models.nets import BLSTM, build_model

from tests.helpers.gradcheck import assert_grad_close, ccc_loss_of, numeric_grad


def test_blstm_config_maps_width_and_depth_and_counts_parameters():
    assert "blstm" in ARCHITECTURES
    cfg = ModelConfig.for_arch("blstm", "valence", in_channels=7, width=5, depth=3)
    assert (cfg.arch, cfg.hidden_size, cfg.num_layers, cfg.in_channels) == ("blstm", 5, 3, 7)
    default = ModelConfig.for_arch("blstm")
    assert (default.hidden_size, default.num_layers) == (ModelConfig.hidden_size,
                                                         ModelConfig.num_layers)
    model = build_model(cfg, seed=0)
    assert isinstance(model, BLSTM) and receptive_field(model) == math.inf
    h, c = 5, 7
    per_direction = [4 * h * (c_in + h) + 8 * h for c_in in (c, 2 * h, 2 * h)]
    assert model.num_parameters() == 2 * sum(per_direction) + 2 * h + 1
    x = np.random.default_rng(0).standard_normal((7, 11)).astype(np.float32)
    assert model(x).shape == (1, 11)
    with pytest.raises(ValueError, match="hidden_size: must be >= 1"):
        ModelConfig.for_arch("blstm", width=0)
    with pytest.raises(ValueError, match="kernel_size: the blstm architecture does not use it"):
        ModelConfig.for_arch("blstm", kernel_size=3)
    with pytest.raises(ValueError, match="hidden_size: the dilated architecture does not use it"):
        ModelConfig.for_arch("dilated", hidden_size=8)


def test_blstm_output_layer_gradient_and_every_frame_sees_the_whole_sequence():
    model = build_model(ModelConfig.for_arch("blstm", in_channels=3, width=2, depth=1), seed=1,
                        dtype=np.float64)
    model.out.weight.data[:] = 0.7  # a non-zero output layer for the check
    rng = np.random.default_rng(2)
    x, target = rng.standard_normal((3, 9)), rng.standard_normal(9)
    F.ccc_loss(model(x), target).backward()
    p = model.lstm.weight_hh_l0_reverse

    assert_grad_close(p.grad, numeric_grad(ccc_loss_of(model, p, x, target), p.data),
                      rtol=1e-5, atol=1e-9)
    # both directions: changing the last frame moves the first output, and vice versa
    y = model(x).numpy()
    for frame, other in ((8, 0), (0, 8)):
        x2 = x.copy()
        x2[:, frame] += 1.0
        assert abs(model(x2).numpy()[0, other] - y[0, other]) > 1e-9


@pytest.mark.slow
def test_blstm_trains_predicts_and_evaluates_on_the_tiny_preset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "blstm"
    assert train_main(["--arch", "blstm", "--preset", "tiny", "--target", "arousal", "--runs", "1",
                       "--epochs", "4", "--width", "6", "--depth", "1", "--out", str(out),
                       "--quiet"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["arch"] == "blstm"
    assert (config["models"]["arousal"]["hidden_size"], config["models"]["arousal"]["num_layers"]) \
        == (6, 1)
    results = json.loads((out / "results.json").read_text())
    assert np.isfinite(results["arousal"]["dev"]["ccc"])
    log = (out / "arousal" / "seed0" / "log.csv").read_text().splitlines()
    assert len(log) == 5 and float(log[-1].split(",")[1]) < float(log[1].split(",")[1])
    corpus = Path(config["data"]["root"])
    audio = corpus / "recordings_audio" / "dev_1.wav"
    assert predict_main(["--model", str(out), str(audio), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "dev_1.csv").read_text().startswith("time,arousal")
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--partition", "dev"]) == 0
    assert "| blstm |" in capsys.readouterr().out
