"""The lstm op and nn.LSTM: values against the loop reference, gradients of every parameter and
the input against central differences (float64, random upstream gradients), parity with
torch.nn.LSTM when PyTorch is installed, and clear errors for bad shapes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinyemo.kernels import reference as R

from tinyemo import Tensor
from tinyemo.engine import functional as F
from tinyemo.engine import nn

from tests.helpers.gradcheck import assert_grad_close, numeric_grad


def _params(rng, c_in, h, dtype=np.float64, bias=True):
    scale = 1.0 / np.sqrt(h)
    w = [rng.uniform(-scale, scale, s).astype(dtype) for s in ((4 * h, c_in), (4 * h, h))]
    b = [rng.uniform(-scale, scale, 4 * h).astype(dtype) for _ in range(2)] if bias else [None] * 2
    return w + b


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5),
       st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_lstm_matches_the_loop_reference(n, c_in, h, t, reverse, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, t))
    w_ih, w_hh, b_ih, b_hh = _params(rng, c_in, h, bias=bias)
    zeros = np.zeros(4 * h)
    want = R.lstm(x, w_ih, w_hh, b_ih if bias else zeros, b_hh if bias else zeros, reverse)
    if reverse:  # the reverse direction alone: the second half of a bidirectional layer
        rw = _params(rng, c_in, h, bias=bias)
        got = F.lstm(x, *rw, reverse_weights=(w_ih, w_hh, b_ih, b_hh)).numpy()[:, h:]
    else:
        got = F.lstm(x, w_ih, w_hh, b_ih, b_hh).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
       st.integers(1, 2), st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_lstm_gradients_match_central_differences(n, c_in, h, t, layers, bidirectional, batch,
                                                  seed):
    """Every parameter of every layer and direction, and the input; T = 1 included."""
    rng = np.random.default_rng(seed)
    model = nn.LSTM(c_in, h, num_layers=layers, bidirectional=bidirectional, rng=rng,
                    dtype=np.float64)
    shape = (n, c_in, t) if batch else (c_in, t)
    x = rng.standard_normal(shape)
    d = 2 if bidirectional else 1
    gy = rng.standard_normal(shape[:-2] + (d * h, t))
    xt = Tensor(x, requires_grad=True)
    y = model(xt)
    assert y.shape == gy.shape
    y.backward(gy)

    def loss():
        return float(np.sum(model(Tensor(x)).numpy() * gy))
    assert_grad_close(xt.grad, numeric_grad(lambda v: float(np.sum(model(Tensor(v)).numpy() * gy)),
                                            x))
    for name, p in model.named_parameters():
        value = p.data

        def f(v, p=p):
            p.data = v
            return loss()
        numeric = numeric_grad(f, value.copy())
        p.data = value
        assert_grad_close(p.grad, numeric)


def test_lstm_without_biases_has_gradients_for_weights_only():
    rng = np.random.default_rng(3)
    w_ih, w_hh, _, _ = _params(rng, 2, 3)
    wt = [Tensor(w, requires_grad=True) for w in (w_ih, w_hh)]
    x = rng.standard_normal((2, 6))
    gy = rng.standard_normal((3, 6))
    F.lstm(x, *wt).backward(gy)
    for i, w in enumerate((w_ih, w_hh)):
        def f(v, i=i):
            args = [w_ih, w_hh]
            args[i] = v
            return float(np.sum(R.lstm(x[None], *args, np.zeros(12), np.zeros(12))[0] * gy))
        assert_grad_close(wt[i].grad, numeric_grad(f, w))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_input_without_grad_gives_no_input_gradient_and_the_same_weight_gradients(bidirectional):
    """A first layer's features need no ∂L/∂x: the op returns None for it (the kernel skips that
    GEMM), and every parameter's gradient equals the one computed with the input's gradient."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6))
    gy = rng.standard_normal((2, (2 if bidirectional else 1) * 4, 6))
    grads = []
    for needs in (True, False):
        model = nn.LSTM(3, 4, num_layers=2, bidirectional=bidirectional,
                        rng=np.random.default_rng(0), dtype=np.float64)
        xt = Tensor(x, requires_grad=needs)
        y = model(xt)
        first = y
        while first._ctx.parents[0]._ctx is not None:  # down to the first layer's op
            first = first._ctx.parents[0]
        y.backward(gy)
        assert (xt.grad is not None) == needs
        grads.append({name: p.grad for name, p in model.named_parameters()})
    assert first._ctx.backward(np.ones(first.shape))[0] is None
    for name, want in grads[0].items():
        np.testing.assert_array_equal(grads[1][name], want, err_msg=name)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_bidirectional_two_layer_lstm_matches_torch(dtype, tol):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    model = nn.LSTM(5, 4, num_layers=2, bidirectional=True, rng=rng, dtype=dtype)
    peer = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    peer = peer.to(torch.float64 if dtype == np.float64 else torch.float32)
    peer.load_state_dict({name: torch.from_numpy(p.numpy()) for name, p in model.named_parameters()})
    x = rng.standard_normal((2, 5, 9)).astype(dtype)
    gy = rng.standard_normal((2, 8, 9)).astype(dtype)
    xt = Tensor(x, requires_grad=True)
    y = model(xt)
    y.backward(gy)
    xp = torch.from_numpy(x).transpose(1, 2).requires_grad_()
    yp, _ = peer(xp)
    yp.backward(torch.from_numpy(gy).transpose(1, 2))
    np.testing.assert_allclose(y.numpy(), yp.detach().numpy().transpose(0, 2, 1), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(xt.grad, xp.grad.numpy().transpose(0, 2, 1), rtol=tol, atol=tol)
    theirs = dict(peer.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, theirs[name].grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=name)


def test_lstm_parameters_have_pytorch_names_shapes_and_init_range():
    model = nn.LSTM(3, 5, num_layers=2, bidirectional=True, rng=np.random.default_rng(0))
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_ih_l0_reverse"]
    assert shapes["weight_ih_l0"] == (20, 3) and shapes["weight_ih_l1"] == (20, 10)
    assert shapes["weight_hh_l1_reverse"] == (20, 5) and shapes["bias_hh_l1"] == (20,)
    assert len(shapes) == 16
    assert max(float(np.abs(p.numpy()).max()) for p in model.parameters()) <= 1 / np.sqrt(5)
    assert model.parameters()[0].dtype == np.float32


def _bad(**changes):
    rng = np.random.default_rng(0)
    args = dict(zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), _params(rng, 3, 2)))
    args["x"] = rng.standard_normal((3, 7))
    args.update(changes)
    return args


@pytest.mark.parametrize("changes, message", [
    (dict(weight_ih=np.zeros((7, 3))), "weight_ih has 7 rows: expected 4·hidden_size"),
    (dict(weight_hh=np.zeros((8, 3))), r"weight_hh has shape \(8, 3\): expected \(8, 2\)"),
    (dict(x=np.zeros((4, 7))), "input has 4 channels but weight_ih expects 3"),
    (dict(bias_hh=np.zeros(6)), "bias_hh has 6 entries: expected 8"),
    (dict(x=np.zeros((2, 3, 4, 5))), "input must be 2-D or 3-D"),
    (dict(x=np.zeros((3, 7), np.float32)), "dtypes differ"),
    (dict(weight_ih=np.zeros((8, 3, 1))), "weight_ih must be 2-D"),
    (dict(x=np.zeros((3, 0))), "input must not be empty"),
])
def test_lstm_rejects_bad_shapes_with_a_clear_message(changes, message):
    args = _bad(**changes)
    with pytest.raises(ValueError, match=message):
        F.lstm(args.pop("x"), **args)


def test_lstm_rejects_mismatched_reverse_weights():
    rng = np.random.default_rng(1)
    forward = _params(rng, 3, 2)
    with pytest.raises(ValueError, match="reverse weights have shapes"):
        F.lstm(np.zeros((3, 4)), *forward, reverse_weights=_params(rng, 3, 3))
    with pytest.raises(ValueError, match="reverse_weights must be"):
        F.lstm(np.zeros((3, 4)), *forward, reverse_weights=forward[:2])
    with pytest.raises(ValueError, match="LSTM sizes must be >= 1"):
        nn.LSTM(3, 0, rng=rng)
