"""``groups`` in conv1d and conv_transpose1d (PyTorch's meaning): forward against the loop
references (which index the groups themselves), every gradient element against central
differences in float64, a grouped conv equal to its groups run apart, nn layers, bad groups
refused, PyTorch when it is installed."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tinyemo.kernels import reference as R
from tinyemo.kernels.shapes import conv1d_out_len

from tinyemo import Tensor
from tinyemo.engine import functional as F
from tinyemo.engine import nn

from tests.helpers.gradcheck import assert_grad_close, numeric_grad


@st.composite
def grouped_cases(draw, transposed=False):
    groups = draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    dilation = 1 if transposed else draw(st.integers(1, 3))
    left, right = (0, 0) if transposed else (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    span = dilation * (k - 1) + 1
    t_min = 1 if transposed else max(1, span - left - right)
    return dict(groups=groups, k=k, stride=stride, dilation=dilation, left=left, right=right,
                n=draw(st.integers(1, 2)), t=draw(st.integers(t_min, t_min + 9)),
                c_in=groups * draw(st.integers(1, 3)), c_out=groups * draw(st.integers(1, 3)),
                seed=draw(st.integers(0, 2**31)), transpose_input=draw(st.booleans()))


def _arrays(case, transposed=False):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c_in"], case["t"])
    x = (rng.standard_normal(shape[::-1]).T if case["transpose_input"]   # a strided view
         else rng.standard_normal(shape))
    g = case["groups"]
    w_shape = ((case["c_in"], case["c_out"] // g, case["k"]) if transposed
               else (case["c_out"], case["c_in"] // g, case["k"]))
    return rng, x, rng.standard_normal(w_shape), rng.standard_normal(case["c_out"])


def _conv(case, x, w, b):
    return F.conv1d(x, w, b, case["stride"], (case["left"], case["right"]), case["dilation"],
                    groups=case["groups"])


def _conv_ref(case, x, w, b):
    return R.conv1d(np.ascontiguousarray(x), w, b, case["stride"], case["dilation"],
                    case["left"], case["right"], groups=case["groups"])


@settings(deadline=None)
@given(grouped_cases())
def test_grouped_conv1d_forward_and_gradients(case):
    rng, x, w, b = _arrays(case)
    np.testing.assert_allclose(_conv(case, x, w, b).numpy(), _conv_ref(case, x, w, b),
                               rtol=1e-12, atol=1e-12)
    t_out = conv1d_out_len(case["t"], case["k"], case["stride"], case["dilation"],
                           case["left"], case["right"])
    gy = rng.standard_normal((case["n"], case["c_out"], t_out))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    _conv(case, xt, wt, bt).backward(gy)

    def loss(xv, wv, bv):
        return float(np.sum(_conv_ref(case, xv, wv, bv) * gy))

    assert_grad_close(xt.grad, numeric_grad(lambda v: loss(v, w, b), x))
    assert_grad_close(wt.grad, numeric_grad(lambda v: loss(x, v, b), w))
    assert_grad_close(bt.grad, numeric_grad(lambda v: loss(x, w, v), b))


@settings(deadline=None)
@given(grouped_cases(transposed=True))
def test_grouped_conv_transpose1d_forward_and_gradients(case):
    rng, x, w, b = _arrays(case, transposed=True)
    s, g = case["stride"], case["groups"]

    def ref(xv, wv, bv):
        return R.conv_transpose1d(np.ascontiguousarray(xv), wv, bv, s, groups=g)

    np.testing.assert_allclose(F.conv_transpose1d(x, w, b, s, groups=g).numpy(), ref(x, w, b),
                               rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal((case["n"], case["c_out"], s * (case["t"] - 1) + case["k"]))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv_transpose1d(xt, wt, bt, s, groups=g).backward(gy)

    def loss(xv, wv, bv):
        return float(np.sum(ref(xv, wv, bv) * gy))

    assert_grad_close(xt.grad, numeric_grad(lambda v: loss(v, w, b), x))
    assert_grad_close(wt.grad, numeric_grad(lambda v: loss(x, v, b), w))
    assert_grad_close(bt.grad, numeric_grad(lambda v: loss(x, w, v), b))


@pytest.mark.parametrize("t", [40, 3000])   # the column-matrix path and the GEMM-per-tap path
def test_grouped_float32_equals_its_groups_run_apart(t):
    """A grouped conv is its groups side by side: the same numbers as separate ungrouped convs
    (each group's kernels see the same operands, so float32 agrees to rounding)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 12, t)).astype(np.float32)
    w = rng.standard_normal((9, 4, 3)).astype(np.float32)
    wt = rng.standard_normal((12, 2, 3)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    y = F.conv1d(x, w, b, padding="same", groups=3).numpy()
    z = F.conv_transpose1d(x, wt, b[:6], stride=3, groups=3).numpy()
    for g in range(3):
        part = F.conv1d(x[:, 4 * g:4 * g + 4], w[3 * g:3 * g + 3], b[3 * g:3 * g + 3],
                        padding="same").numpy()
        np.testing.assert_allclose(y[:, 3 * g:3 * g + 3], part, rtol=1e-6, atol=1e-6)
        part = F.conv_transpose1d(x[:, 4 * g:4 * g + 4], wt[4 * g:4 * g + 4], b[2 * g:2 * g + 2],
                                  stride=3).numpy()
        np.testing.assert_allclose(z[:, 2 * g:2 * g + 2], part, rtol=1e-6, atol=1e-6)


def test_nn_layers_take_groups():
    rng = np.random.default_rng(4)
    conv = nn.Conv1d(6, 4, 3, padding="same", groups=2, rng=rng)
    up = nn.ConvTranspose1d(4, 6, 3, stride=3, groups=2, rng=rng)
    assert conv.weight.shape == (4, 3, 3) and up.weight.shape == (4, 3, 3)
    x = rng.standard_normal((6, 10)).astype(np.float32)
    y = up(conv(x))
    assert y.shape == (6, 30)
    h = R.conv1d(x[None], conv.weight.data, conv.bias.data, 1, 1, 1, 1, groups=2)
    ref = R.conv_transpose1d(h, up.weight.data, up.bias.data, 3, groups=2)[0]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda x: F.conv1d(x, np.ones((3, 2, 1)), groups=2), "groups=2 does not divide the 3 output"),
    (lambda x: F.conv1d(x, np.ones((4, 3, 1)), groups=2), "input has 4 channels but weight expects 6"),
    (lambda x: F.conv1d(x, np.ones((4, 2, 1)), groups=0), "groups must be >= 1"),
    (lambda x: F.conv_transpose1d(x[:3], np.ones((3, 2, 1)), groups=2),
     "groups=2 does not divide the 3 input"),
])
def test_bad_groups_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((4, 5)))


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, w, wt = (rng.standard_normal(s) for s in ((2, 6, 30), (6, 2, 3), (6, 2, 3)))
    b, bt = rng.standard_normal(6), rng.standard_normal(4)
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b, wt, bt)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b, wt, bt)]
    y = F.conv_transpose1d(F.conv1d(ours[0], ours[1], ours[2], 2, (1, 0), 2, groups=3),
                           ours[3], ours[4], stride=3, groups=2)
    ty = torch.nn.functional.conv_transpose1d(
        torch.nn.functional.conv1d(torch.nn.functional.pad(theirs[0], (1, 0)), theirs[1],
                                   theirs[2], stride=2, dilation=2, groups=3),
        theirs[3], theirs[4], stride=3, groups=2)
    gy = rng.standard_normal(tuple(ty.shape))
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_grouped_fft_path_equals_its_groups_run_apart():
    """Long kernels take the FFT kernels (``conv1d_fft.fft_preferred``) on channel views too;
    forward and gradients equal the groups run apart (float64)."""
    from tinyemo.kernels.cpu.conv1d_fft import fft_preferred
    assert fft_preferred(2, 1, 512, 1, 1, 3000)
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((4, 3000)), rng.standard_normal((2, 2, 512)), rng.standard_normal(2)
    gy = rng.standard_normal((2, 3000))
    ts = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    F.conv1d(*ts, padding="same", groups=2).backward(gy)
    for g in range(2):
        parts = [Tensor(a, requires_grad=True) for a in (x[2 * g:2 * g + 2], w[g:g + 1], b[g:g + 1])]
        y = F.conv1d(*parts, padding="same")
        y.backward(gy[g:g + 1])
        np.testing.assert_allclose(F.conv1d(*ts, padding="same", groups=2).numpy()[g:g + 1],
                                   y.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ts[0].grad[2 * g:2 * g + 2], parts[0].grad, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ts[1].grad[g:g + 1], parts[1].grad, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ts[2].grad[g:g + 1], parts[2].grad, rtol=1e-10, atol=1e-10)
