"""dropout: the mask's values and rates, the gradient against central differences with a fixed
mask (float64), channel-wise masks constant over time, and eval mode: the identity, in models
and in training's dev scoring."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F
from tinyemo.engine import nn
from tinyemo.engine.ops.dropout import DropoutFn
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.train.loop import TrainConfig, predict_examples, train_run
from tinyemo.util.metrics import score

from tests.helpers.gradcheck import assert_grad_close, numeric_grad

shapes = st.one_of(st.tuples(st.integers(1, 9)),
                   st.tuples(st.integers(1, 4), st.integers(1, 9)),
                   st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 9)))


@given(shapes, st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.integers(0, 2**31))
def test_values_and_gradient_with_a_fixed_mask_float64(shape, p, seed):
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape)   # gy: never all ones
    u = rng.random(shape)
    xt = Tensor(x, requires_grad=True)
    y = DropoutFn.apply(xt, u, p=p)
    np.testing.assert_allclose(y.numpy(), R.dropout(x, u, p), rtol=1e-15)
    y.backward(gy)
    assert_grad_close(xt.grad, numeric_grad(lambda v: float(np.sum(R.dropout(v, u, p) * gy)), x))


@given(st.sampled_from(["element", "channel"]), st.integers(0, 2**31))
def test_functional_gradient_with_a_reseeded_generator(mode, seed):
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal((2, 3, 7)), rng.standard_normal((2, 3, 7))
    mask = lambda: np.random.default_rng([seed, 9])      # noqa: E731  the same mask each call
    xt = Tensor(x, requires_grad=True)
    F.dropout(xt, 0.4, mode, rng=mask()).backward(gy)
    assert_grad_close(xt.grad, numeric_grad(
        lambda v: float(np.sum(F.dropout(v, 0.4, mode, rng=mask()).numpy() * gy)), x))


def test_rates_scaling_and_channel_masks_float32():
    x = np.ones((64, 2000), np.float32)
    y = F.dropout(x, 0.25, rng=np.random.default_rng(0)).numpy()
    assert y.dtype == np.float32 and set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    np.testing.assert_allclose((y == 0).mean(), 0.25, atol=0.005)
    np.testing.assert_allclose(y.mean(), 1.0, atol=0.01)          # the expectation is kept
    c = F.dropout(x, 0.5, "channel", rng=np.random.default_rng(1)).numpy()
    assert np.all(c == c[:, :1])                                   # one draw per channel
    assert 10 < (c[:, 0] == 0).sum() < 54
    batch = F.dropout(np.ones((3, 8, 5), np.float32), 0.5, "channel",
                      rng=np.random.default_rng(2)).numpy()
    assert np.all(batch == batch[..., :1]) and not np.all(batch[0] == batch[1])


def test_eval_mode_and_zero_rate_are_the_identity():
    x = Tensor(np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32))
    assert F.dropout(x, 0.5, rng=None, training=False) is x
    assert F.dropout(x, 0.0, rng=None) is x
    layer = nn.Dropout(0.5, rng=np.random.default_rng(0))
    assert layer.eval()(x) is x and layer.training is False
    assert not np.array_equal(layer.train()(x).numpy(), x.numpy())


def test_a_model_with_dropout_equals_the_model_without_in_eval_mode():
    kwargs = dict(in_channels=5, width=4, depth=2)
    x = np.random.default_rng(4).standard_normal((5, 27)).astype(np.float32)
    for arch in ("dilated", "downup"):
        plain = build_model(ModelConfig.for_arch(arch, **kwargs), seed=1)
        dropped = build_model(ModelConfig.for_arch(arch, dropout=0.5, dropout_mode="channel",
                                                   **kwargs), seed=1)
        for m in (plain, dropped):
            last = [l for l in m.modules() if isinstance(l, nn.Conv1d)][-1]
            last.weight.data[:] = 0.5                # a non-zero output layer
        assert sum(isinstance(m, nn.Dropout) for m in dropped.modules()) == \
            sum(isinstance(m, (nn.ReLU, nn.Tanh)) for m in dropped.modules())
        np.testing.assert_array_equal(dropped.eval()(x).numpy(), plain(x).numpy())
        assert not np.array_equal(dropped.train()(x).numpy(), plain(x).numpy())


def test_training_scores_dev_in_eval_mode(tmp_path):
    from tests.train.test_training import _examples, _split
    train, dev = _split(_examples())
    cfg = ModelConfig.for_arch("dilated", "arousal", in_channels=8, width=4, depth=2,
                               dropout=0.5)
    summary = train_run(cfg, TrainConfig(epochs=1), train, dev, "arousal", 0, tmp_path / "r",
                        say=lambda s: None)
    model = build_model(cfg, seed=0)
    with np.load(tmp_path / "r" / "best.npz") as saved:
        model.load_state_dict({k[6:]: saved[k] for k in saved.files if k.startswith("param/")})
    assert model.training                                      # predict switches it off
    dev_ccc = score(predict_examples(model, dev), [ex.y["arousal"] for ex in dev])["ccc"]
    assert dev_ccc == summary["best_dev_ccc"] and model.training


def test_bad_input_is_named():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1"):
        F.dropout(x, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="dropout mode must be one of"):
        F.dropout(x, 0.5, "time", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="draws must match the input"):
        DropoutFn.apply(x, np.zeros((2, 1), np.float32), p=0.5)
