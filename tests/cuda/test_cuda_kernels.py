"""Every CUDA kernel against its CPU twin (and the NumPy references), float32 and float64, on
tiny shapes with the block size shrunk to 5 so that each launch spans several blocks, blocks
end part-full (the bounds checks) and block reductions run on a non-power-of-two block.

Outputs are preallocated full of NaN, so an element a kernel forgets to write shows up.
Run in the simulator: ``NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/cuda``.
"""
from __future__ import annotations

import numpy as np
import pytest
from tinyemo.kernels import cpu, reference
from tinyemo.kernels.shapes import conv1d_out_len, conv_transpose1d_out_len, max_pool1d_out_len

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


SMALL_CONFIG = dict(THREADS_PER_BLOCK=5, GEMM_THREADS=4, GEMM_MAX_Y=2, GEMM_MAX_X=2,
                    GEMM_TILE_K=3, GEMM_TARGET_BLOCKS=40, GEMM_MIN_SPLIT=2)


@pytest.fixture
def gpu(device, monkeypatch):
    """``tinyemo.kernels.cuda`` with the launch settings shrunk (``SMALL_CONFIG``): blocks of 5
    threads; GEMM tiles of at most 8 × 8 outputs on 2 × 2 threads, 3 reduction steps staged at a
    time, the weight gradient's frames split 2 by 2: tiny shapes then span several tiles and
    splits, and end part-full."""
    from tinyemo.kernels import cuda
    from tinyemo.kernels.cuda import config
    for name, value in SMALL_CONFIG.items():
        monkeypatch.setattr(config, name, value)
    return cuda


def _dev(gpu, array):
    return gpu.to_device(np.ascontiguousarray(array))


def _nan_out(gpu, shape, dtype):
    """A device output prefilled with NaN (int arrays: −7), to catch unwritten elements."""
    fill = -7 if np.issubdtype(dtype, np.integer) else np.nan
    return gpu.to_device(np.full(shape, fill, dtype=dtype))


def _close(device_array, expected, dtype):
    got = device_array.copy_to_host()
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, **TOL[dtype])


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# -- conv1d --------------------------------------------------------------------------------
CONV_CASES = [  # (N, C_in, C_out, K, T, stride, dilation, pad_left, pad_right)
    (1, 1, 1, 1, 4, 1, 1, 0, 0),
    (2, 2, 3, 3, 9, 1, 2, 2, 2),
    (1, 2, 2, 2, 10, 3, 1, 1, 0),
    (2, 1, 2, 4, 6, 2, 1, 3, 1),  # K larger than T without the padding
    (1, 5, 10, 3, 13, 1, 1, 1, 1),  # 2 row tiles of 8, 2 channel steps of 3, 'same'
    (1, 4, 9, 3, 17, 3, 1, 0, 0),  # stride 3 = the pool factor: 3 input-gradient phases
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv1d_matches_cpu_and_reference(gpu, case, dtype):
    n, c_in, c_out, k, t, stride, dilation, left, right = case
    rng = np.random.default_rng(1)
    x, w, b = _rand(rng, (n, c_in, t), dtype), _rand(rng, (c_out, c_in, k), dtype), \
        _rand(rng, (c_out,), dtype)
    t_out = conv1d_out_len(t, k, stride, dilation, left, right)
    gy = _rand(rng, (n, c_out, t_out), dtype)

    y = _nan_out(gpu, (n, c_out, t_out), dtype)
    gpu.conv1d_forward(_dev(gpu, x), _dev(gpu, w), _dev(gpu, b), stride, dilation, left, y)
    y_cpu = np.empty((n, c_out, t_out), dtype)
    cpu.conv1d_forward(x, w, b, stride, dilation, left, y_cpu)
    _close(y, y_cpu, dtype)
    _close(y, reference.conv1d(x, w, b, stride, dilation, left, right), dtype)

    gx = _nan_out(gpu, x.shape, dtype)
    gpu.conv1d_backward_input(_dev(gpu, gy), _dev(gpu, w), stride, dilation, left, gx)
    gx_cpu = np.empty_like(x)
    cpu.conv1d_backward_input(gy, w, stride, dilation, left, gx_cpu)
    _close(gx, gx_cpu, dtype)

    gw = _nan_out(gpu, w.shape, dtype)
    gpu.conv1d_backward_weight(_dev(gpu, x), _dev(gpu, gy), stride, dilation, left, gw)
    gw_cpu = np.empty_like(w)
    cpu.conv1d_backward_weight(x, gy, stride, dilation, left, gw_cpu)
    _close(gw, gw_cpu, dtype)

    gb = _nan_out(gpu, b.shape, dtype)
    gpu.conv1d_backward_bias(_dev(gpu, gy), gb)
    _close(gb, gy.sum(axis=(0, 2)), dtype)


@pytest.mark.parametrize("min_split, expect_splits", [(1000, 1), (2, 5)])
def test_conv1d_weight_gradient_with_and_without_split_frames(gpu, monkeypatch, min_split,
                                                              expect_splits):
    """One block row per tap (no split: written straight into gw) and frames split over blocks
    whose partial sums a second kernel adds: both equal the CPU's weight gradient."""
    from tinyemo.kernels.cuda import config, conv1d
    monkeypatch.setattr(config, "GEMM_MIN_SPLIT", min_split)
    rng = np.random.default_rng(11)
    x, gy = rng.standard_normal((2, 3, 16)), rng.standard_normal((2, 5, 15))
    assert conv1d.weight_splits(5, 3, 2, 15)[0] == expect_splits
    gw = _nan_out(gpu, (5, 3, 2), np.float64)
    gpu.conv1d_backward_weight(_dev(gpu, x), _dev(gpu, gy), 1, 1, 0, gw)
    gw_cpu = np.empty((5, 3, 2))
    cpu.conv1d_backward_weight(x, gy, 1, 1, 0, gw_cpu)
    _close(gw, gw_cpu, np.float64)


@pytest.mark.no_cuda_needed
@pytest.mark.parametrize("c_out, c_in, taps, t_out", [(32, 160, 3, 7500), (128, 128, 3, 2500),
                                                      (1, 32, 1, 7500), (32, 32, 2, 9),
                                                      (128, 128, 3, 30)])
def test_weight_gradient_splits_cover_every_frame_once(c_out, c_in, taps, t_out):
    """Splits are contiguous runs of ``frames`` frames: together they cover 0 … T_out − 1, none
    is empty, none is shorter than GEMM_MIN_SPLIT unless there is only one, and the grid stays
    near GEMM_TARGET_BLOCKS blocks (default settings)."""
    from tinyemo.kernels.cuda import config, conv1d, tiles
    splits, frames = conv1d.weight_splits(c_out, c_in, taps, t_out)
    assert splits >= 1 and (splits - 1) * frames < t_out <= splits * frames
    assert splits == 1 or frames >= config.GEMM_MIN_SPLIT
    _, _, tm, tn = tiles.geometry(c_out, c_in)
    blocks = splits * taps * -(-c_out // tm) * -(-c_in // tn)
    assert blocks < 2 * config.GEMM_TARGET_BLOCKS + taps * -(-c_out // tm) * -(-c_in // tn)


@pytest.mark.no_cuda_needed
@pytest.mark.parametrize("m, n", [(1, 7500), (32, 7500), (128, 2500), (160, 32), (3, 2)])
def test_tile_geometry_fits_the_limits(m, n):
    """Default settings: at most GEMM_THREADS threads; a tile never much taller or wider than
    the output; the staging buffer fits the 48 KiB of shared memory in float64."""
    from tinyemo.kernels.cuda import config, tiles
    tx, ty, tm, tn = tiles.geometry(m, n)
    assert 1 <= tx * ty <= config.GEMM_THREADS
    assert tm < m + tiles.REG_M and tn < n + tiles.REG_N
    assert config.GEMM_TILE_K * (tm + tn + 2) * 8 <= 48 * 1024


def test_conv1d_backward_input_is_the_adjoint(gpu):
    """⟨conv(x), g⟩ = ⟨x, convᵀ(g)⟩ with a random g (never all ones)."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 11)), rng.standard_normal((3, 2, 3))
    stride, dilation, left = 2, 2, 1
    t_out = conv1d_out_len(11, 3, stride, dilation, left, 0)
    g = rng.standard_normal((1, 3, t_out))
    y = gpu.empty((1, 3, t_out), np.float64)
    gpu.conv1d_forward(_dev(gpu, x), _dev(gpu, w), gpu.zeros((3,), np.float64), stride,
                       dilation, left, y)
    gx = gpu.empty(x.shape, np.float64)
    gpu.conv1d_backward_input(_dev(gpu, g), _dev(gpu, w), stride, dilation, left, gx)
    assert np.vdot(y.copy_to_host(), g) == pytest.approx(np.vdot(x, gx.copy_to_host()), rel=1e-12)


# -- transposed conv ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, c_in, c_out, k, n_x, stride", [(1, 1, 1, 3, 4, 3), (2, 2, 3, 2, 5, 2),
                                                            (1, 3, 2, 4, 3, 1)])
def test_conv_transpose1d_matches_cpu_and_literal_t(gpu, n, c_in, c_out, k, n_x, stride, dtype):
    rng = np.random.default_rng(3)
    x, w, b = _rand(rng, (n, c_in, n_x), dtype), _rand(rng, (c_in, c_out, k), dtype), \
        _rand(rng, (c_out,), dtype)
    n_y = conv_transpose1d_out_len(n_x, k, stride)
    gy = _rand(rng, (n, c_out, n_y), dtype)

    y = _nan_out(gpu, (n, c_out, n_y), dtype)
    gpu.conv_transpose1d_forward(_dev(gpu, x), _dev(gpu, w), _dev(gpu, b), stride, y)
    y_cpu = np.empty((n, c_out, n_y), dtype)
    cpu.conv_transpose1d_forward(x, w, b, stride, y_cpu)
    _close(y, y_cpu, dtype)
    _close(y, reference.conv_transpose1d(x, w, b, stride), dtype)

    gx, gw = _nan_out(gpu, x.shape, dtype), _nan_out(gpu, w.shape, dtype)
    gpu.conv_transpose1d_backward(_dev(gpu, x), _dev(gpu, gy), _dev(gpu, w), stride, gx, gw)
    gx_cpu, gw_cpu = np.empty_like(x), np.empty_like(w)
    cpu.conv_transpose1d_backward(x, gy, w, stride, gx_cpu, gw_cpu)
    _close(gx, gx_cpu, dtype)
    _close(gw, gw_cpu, dtype)
    for i, skipped in enumerate(((None, _nan_out(gpu, w.shape, dtype)),
                                 (_nan_out(gpu, x.shape, dtype), None))):
        gpu.conv_transpose1d_backward(_dev(gpu, x), _dev(gpu, gy), _dev(gpu, w), stride,
                                      *skipped)  # one output: the same values alone
        _close(skipped[1 - i], (gw_cpu, gx_cpu)[i], dtype)

    gb = _nan_out(gpu, b.shape, dtype)
    gpu.conv_transpose1d_backward_bias(_dev(gpu, gy), gb)
    _close(gb, gy.sum(axis=(0, 2)), dtype)


# -- max-pool ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t, kernel_size, stride", [(10, 3, 3), (11, 3, 2), (7, 2, 3), (4, 4, 1)])
def test_max_pool1d_matches_reference(gpu, t, kernel_size, stride, dtype):
    rng = np.random.default_rng(4)
    x = _rand(rng, (2, 2, t), dtype)
    x[0, 0, :3] = 1.5  # a tie: the first maximum wins
    t_out = max_pool1d_out_len(t, kernel_size, stride)
    y = _nan_out(gpu, (2, 2, t_out), dtype)
    argmax = _nan_out(gpu, (2, 2, t_out), np.int64)
    gpu.max_pool1d_forward(_dev(gpu, x), kernel_size, stride, y, argmax)
    y_ref, arg_ref = reference.max_pool1d(x, kernel_size, stride)
    np.testing.assert_array_equal(y.copy_to_host(), y_ref)
    np.testing.assert_array_equal(argmax.copy_to_host(), arg_ref)

    gy = _rand(rng, (2, 2, t_out), dtype)
    gx = _nan_out(gpu, x.shape, dtype)
    gpu.max_pool1d_backward(_dev(gpu, gy), argmax, gx)
    gx_cpu = np.empty_like(x)
    cpu.max_pool1d_backward(gy, arg_ref, gx_cpu)
    _close(gx, gx_cpu, dtype)
    _close(gx, reference.max_pool1d_backward(gy, arg_ref, t), dtype)



def test_max_pool1d_takes_nan_as_the_maximum(gpu):
    """A NaN anywhere in a window makes it NaN, its first NaN the argmax, as on the CPU."""
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 12)
    x[0, 0, [1, 4, 5]] = np.nan         # second of a window; two in one window
    x[0, 1, 11] = np.nan                # last of the last window
    y = _nan_out(gpu, (1, 2, 4), np.float32)
    argmax = _nan_out(gpu, (1, 2, 4), np.int64)
    gpu.max_pool1d_forward(_dev(gpu, x), 3, 3, y, argmax)
    y_cpu, arg_cpu = np.empty((1, 2, 4), np.float32), np.empty((1, 2, 4), np.int64)
    cpu.max_pool1d_forward(x, 3, 3, y_cpu, arg_cpu)
    np.testing.assert_array_equal(arg_cpu, [[[1, 4, 8, 11], [2, 5, 8, 11]]])
    np.testing.assert_array_equal(np.isnan(y_cpu), [[[1, 1, 0, 0], [0, 0, 0, 1]]])
    np.testing.assert_array_equal(y.copy_to_host(), y_cpu)
    np.testing.assert_array_equal(argmax.copy_to_host(), arg_cpu)

# -- CCC -------------------------------------------------------------------------------------------
def _ccc_on(target, x, y, dtype):
    """(stats, ccc, ∂/∂x, ∂/∂y) from one target's kernels (host copies)."""
    xd, yd = (target.to_device(x), target.to_device(y)) if target is not cpu else (x, y)
    alloc = (lambda s, d: target.empty(s, d)) if target is not cpu else np.empty
    stats, out = alloc((5,), np.float64), alloc((1,), dtype)
    target.ccc_forward(xd, yd, stats, out)
    g = np.array([0.7], dtype)
    g = target.to_device(g) if target is not cpu else g
    gx, gy, swapped = alloc(x.shape, dtype), alloc(y.shape, dtype), alloc((5,), np.float64)
    target.ccc_backward(xd, yd, stats, g, gx)
    target.ccc_swap_stats(stats, swapped)
    target.ccc_backward(yd, xd, swapped, g, gy)
    host = (lambda a: a) if target is cpu else (lambda a: a.copy_to_host())
    return host(stats), host(out)[0], host(gx), host(gy)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["random", "constant prediction", "equal constants"])
def test_ccc_matches_cpu_and_reference(gpu, case, dtype):
    rng = np.random.default_rng(5)
    t = 23
    x, y = _rand(rng, (t,), dtype), _rand(rng, (t,), dtype) + 0.3
    if case == "constant prediction":
        x[:] = 0.25
    elif case == "equal constants":
        x[:] = 0.5
        y[:] = 0.5
    stats, value, gx, gy = _ccc_on(gpu, x, y, dtype)
    stats_c, value_c, gx_c, gy_c = _ccc_on(cpu, x, y, dtype)
    np.testing.assert_allclose(stats, stats_c, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(value, value_c, **TOL[dtype])
    assert value == pytest.approx(reference.ccc(x, y), rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(gx, gx_c, **TOL[dtype])
    np.testing.assert_allclose(gy, gy_c, **TOL[dtype])
    np.testing.assert_allclose(gx, 0.7 * reference.ccc_grad(x, y), rtol=1e-4, atol=1e-6)
    if case == "equal constants":
        assert value == 1.0 and not gx.any() and not gy.any()


# -- elementwise, padding, Adam, arithmetic ------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_match_cpu(gpu, dtype):
    rng = np.random.default_rng(6)
    x = _rand(rng, (2, 3, 4), dtype)
    x[0, 0, 0] = 0.0
    gy = _rand(rng, x.shape, dtype)
    for fwd, bwd, ref in [("relu_forward", "relu_backward", reference.relu),
                          ("tanh_forward", "tanh_backward", reference.tanh)]:
        y = _nan_out(gpu, x.shape, dtype)
        getattr(gpu, fwd)(_dev(gpu, x), y)
        _close(y, ref(x), dtype)
        y_host = y.copy_to_host()
        gx = _nan_out(gpu, x.shape, dtype)
        getattr(gpu, bwd)(y, _dev(gpu, gy), gx)
        gx_cpu = np.empty_like(x)
        getattr(cpu, bwd)(y_host, gy, gx_cpu)
        _close(gx, gx_cpu, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("left, t_out", [(2, 9), (-2, 4), (0, 6), (-1, 7)])
def test_pad1d_matches_reference(gpu, left, t_out, dtype):
    x = _rand(np.random.default_rng(7), (2, 2, 6), dtype)
    y = _nan_out(gpu, (2, 2, t_out), dtype)
    gpu.pad1d(_dev(gpu, x), left, y)
    np.testing.assert_array_equal(y.copy_to_host(), reference.pad1d(x, left, t_out))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_step_matches_cpu_and_reference(gpu, dtype):
    rng = np.random.default_rng(8)
    p, g = _rand(rng, (3, 4), dtype), _rand(rng, (3, 4), dtype)
    m, v = _rand(rng, (3, 4), dtype), np.abs(_rand(rng, (3, 4), dtype))
    args = (1e-2, 0.9, 0.999, 1e-8, 1e-3, 3)
    pd, md, vd = _dev(gpu, p), _dev(gpu, m), _dev(gpu, v)
    gpu.adam_step(pd, _dev(gpu, g), md, vd, *args)
    pc, mc, vc = p.copy(), m.copy(), v.copy()
    cpu.adam_step(pc, g, mc, vc, *args)
    for got, want in [(pd, pc), (md, mc), (vd, vc)]:
        _close(got, want, dtype)
    p_ref, m_ref, v_ref = reference.adam_step(p.astype(np.float64), g, m, v, *args)
    np.testing.assert_allclose(pd.copy_to_host(), p_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape_a, shape_b", [((2, 7), (2, 7)), ((), (2, 7)), ((2, 7), (1,))])
def test_arithmetic_matches_cpu(gpu, shape_a, shape_b, dtype):
    rng = np.random.default_rng(9)
    a, b = _rand(rng, shape_a, dtype), _rand(rng, shape_b, dtype)
    shape = shape_a if a.size > 1 else shape_b
    for name, args in [("axpby", (0.5, a, -2.0, b)), ("mul", (a, b))]:
        out = _nan_out(gpu, shape, dtype)
        getattr(gpu, name)(*[_dev(gpu, v) if isinstance(v, np.ndarray) else v for v in args],
                           out)
        out_cpu = np.empty(shape, dtype)
        getattr(cpu, name)(*args, out_cpu)
        _close(out, out_cpu, dtype)
    total = _nan_out(gpu, (1,), dtype)
    gpu.sum_all(_dev(gpu, b), total)
    _close(total, [b.astype(np.float64).sum()], dtype)


def test_device_arrays_allocate_and_reshape_as_the_ops_need(gpu):
    z = gpu.zeros((2, 3), np.float32)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.copy_to_host().any()
    scalar = gpu.zeros((), np.float64)
    assert scalar.shape == () and scalar.copy_to_host() == 0
    assert scalar.reshape((1,)).shape == (1,)
    assert gpu.empty((1,), np.float64).reshape(()).shape == ()
    a = gpu.to_device(np.arange(6.0).reshape(1, 2, 3)[:, :, ::-1])  # uploads a contiguous copy
    assert a.is_c_contiguous() and a.reshape((2, 3)).copy_to_host()[0, 0] == 2.0
    ints = gpu.zeros((4,), np.int64)
    np.testing.assert_array_equal(ints.copy_to_host(), 0)
