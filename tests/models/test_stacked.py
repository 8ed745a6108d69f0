"""The seeds of a target stacked into one grouped net (``models.stacked``): every row equals its
seed's own net to 1e-6 in float32, for every conv architecture and setting; the ensemble's
predict, its windowed (long-file, streaming) path and the grouped layers use it; recurrent
nets are left to run seed by seed."""
from __future__ import annotations

import numpy as np
import pytest

from tinyemo import Tensor, no_grad
from tinyemo.data.examples import Example
from tinyemo.engine import nn
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.models.stacked import stack_seeds
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.windowed import WindowedEnsemble
from tinyemo.train.loop import predict_examples

from tests.helpers.modelfolder import make_model_folder

SETTINGS = [
    ("single", {"filter_length": 16}),
    ("dilated", {}),
    ("dilated", {"input_average": 0.4, "activation": "tanh", "dropout": 0.3,
                 "dropout_mode": "channel", "kernel_size": [2, 3] * 5}),
    ("downup", {}),
    ("downup", {"up_kernel_size": 4}),
    ("downup", {"up_kernel_size": 5, "depth": 3, "input_average": 0.24, "dropout": 0.2}),
]


def _seeds(arch, kw, n=5):
    """n nets with random weights everywhere (a zero output layer would make rows trivially equal)."""
    cfg = ModelConfig.for_arch(arch, "arousal", **kw)
    models = []
    for seed in range(n):
        model = build_model(cfg, seed=seed)
        rng = np.random.default_rng(100 + seed)
        for p in model.parameters():
            if not p.data.any():
                p.data = (0.3 * rng.standard_normal(p.shape)).astype(np.float32)
        models.append(model.eval())
    return models


def _one_by_one(models, x):
    with no_grad():
        return np.stack([m(Tensor(x)).numpy().reshape(-1) for m in models])


@pytest.mark.parametrize("arch, kw", SETTINGS)
def test_rows_equal_the_seeds_nets(arch, kw):
    models = _seeds(arch, kw)
    before = [m.state_dict() for m in models]
    stacked = stack_seeds(models)
    assert stacked is not None and stacked.seeds == 5
    rng = np.random.default_rng(1)
    for t in (1, 80, 811, 3000):
        x = rng.standard_normal((160, t)).astype(np.float32)
        with no_grad():
            rows = stacked(Tensor(x)).numpy()
        want = _one_by_one(models, x)
        assert rows.shape == (5, t)
        assert np.std(want) > 0.05          # real signals, not constants
        np.testing.assert_allclose(rows, want, rtol=0, atol=1e-6)
    for model, state in zip(models, before):    # the seeds' own nets are left as they were
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(value, state[name])


def test_layers_are_one_wide_conv_then_grouped():
    stacked = stack_seeds(_seeds("downup", {}, n=3))
    convs = [m for m in stacked.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    assert convs[0].groups == 1 and convs[0].weight.shape == (3 * 32, 160, 3)
    assert all(c.groups == 3 for c in convs[1:])
    assert convs[-1].weight.shape == (3, 32, 1)


def test_recurrent_nets_do_not_stack():
    models = [build_model(ModelConfig.for_arch("blstm", "arousal", width=4, depth=1), seed=s)
              for s in range(2)]
    assert stack_seeds(models) is None


@pytest.mark.parametrize("arch", ["downup", "blstm"])
def test_ensemble_predict_equals_seed_by_seed(tmp_path, arch):
    kw = {"width": 4, "depth": 1} if arch == "blstm" else {}
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, seeds=(0, 1, 2, 3, 4), **kw))
    assert (ensemble.stacked["arousal"] is None) == (arch == "blstm")
    rng = np.random.default_rng(2)
    examples = [Example(None, rng.standard_normal((160, t)).astype(np.float32), {})
                for t in (50, 1234)]     # predict reads only x
    mean, per_run = ensemble.predict(examples, "arousal")
    want = [predict_examples(m, examples) for m in ensemble.models["arousal"]]
    for i in range(len(examples)):
        np.testing.assert_allclose(np.stack([run[i] for run in per_run]),
                                   np.stack([run[i] for run in want]), rtol=0, atol=1e-6)
        np.testing.assert_allclose(mean[i], np.mean([run[i] for run in want], axis=0),
                                   rtol=0, atol=1e-6)


def _windowed(models, x, stack=True):
    nets = WindowedEnsemble(models, max_window=700, stack=stack)
    got = {t: [] for t in models}
    for piece in np.array_split(x, 7):
        for t, y in nets.push(piece).items():
            got[t].append(y)
    for t, y in nets.finish().items():
        got[t].append(y)
    return {t: np.concatenate(v) for t, v in got.items()}


def test_windowed_prediction_equals_seed_by_seed():
    """Long files and streaming go through WindowedEnsemble: its windows of the stacked net
    equal the same windows run seed by seed (``stack=False``), and the whole sequence to the
    windowing's own rounding."""
    models = {"arousal": _seeds("downup", {}, n=5), "valence": _seeds("dilated", {}, n=3)}
    x = np.random.default_rng(3).standard_normal((4000, 160)).astype(np.float32)
    got = _windowed(models, x)
    alone = _windowed(models, x, stack=False)
    for target, runs in models.items():
        np.testing.assert_allclose(got[target], alone[target], rtol=0, atol=1e-6)
        whole = _one_by_one(runs, np.ascontiguousarray(x.T)).mean(axis=0)
        np.testing.assert_allclose(got[target], whole, rtol=0, atol=1e-5)


def test_windows_stack_the_seeds_only_where_that_was_measured_faster():
    """The default ``stack="auto"``: 5 seeds of down/up width 32 (160 channels stacked) run in one
    pass, width 128 (640) one after another (``STACK_CHANNELS``, bench/bench_ensemble.py);
    True and False force either way."""
    narrow = [build_model(ModelConfig.for_arch("downup", "arousal", width=32), seed=s) for s in range(5)]
    wide = [build_model(ModelConfig.for_arch("downup", "arousal", width=128), seed=s) for s in range(5)]
    nets = WindowedEnsemble({"arousal": narrow, "valence": wide})
    assert nets._stacked["arousal"] is not None and nets._stacked["valence"] is None
    assert WindowedEnsemble({"valence": wide}, stack=True)._stacked["valence"] is not None
    assert WindowedEnsemble({"arousal": narrow}, stack=False)._stacked["arousal"] is None
