"""The shared formulas (``kernels/formulas.py``) as plain Python against the references, and the
CPU build of them: factory-made kernels load from Numba's cache in a new process."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from tinyemo.kernels import formulas, reference


def test_adam_formula_matches_the_reference_step():
    rng = np.random.default_rng(0)
    p, g, m = rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal(6)
    v = np.abs(rng.standard_normal(6))
    args = (1e-2, 0.9, 0.999, 1e-8, 1e-3, 3)
    c = formulas.adam_constants(*args)
    got = np.array([formulas.adam(*e, *c) for e in zip(p, g, m, v)]).T
    want = reference.adam_step(p, g, m, v, *args)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12)


@pytest.mark.parametrize("case", ["random", "equal constants"])
def test_ccc_formulas_match_the_reference(case):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(11), rng.standard_normal(11) + 0.4
    if case == "equal constants":
        x[:], y[:] = 0.5, 0.5
    mx, my = x.mean(), y.mean()
    moments = (mx, my, x.var(), y.var(), np.mean((x - mx) * (y - my)))
    stats, out = np.empty(5), np.empty(1)
    formulas.ccc_store(stats, out, *moments)
    assert list(stats) == list(moments)
    assert out[0] == pytest.approx(reference.ccc(x, y), rel=1e-12)
    a, b = formulas.ccc_grad_coefficients(len(x), *moments, 0.7)
    grad = [formulas.ccc_grad(xi, yi, mx, my, a, b) for xi, yi in zip(x, y)]
    np.testing.assert_allclose(grad, 0.7 * reference.ccc_grad(x, y), rtol=1e-10, atol=1e-15)
    swapped = [moments[formulas.ccc_swap_source(i)] for i in range(5)]
    assert swapped == [moments[1], moments[0], moments[3], moments[2], moments[4]]


def test_window_and_pad_formulas_match_the_references():
    x = np.array([[[0.0, 2.0, 2.0, -1.0, 5.0, 1.0]]])
    y, arg = reference.max_pool1d(x, 3, 2)
    got = [formulas.window_argmax(x, 0, 0, t * 2, 3) for t in range(y.shape[2])]
    assert got == list(zip(y[0, 0], arg[0, 0]))
    for left, t_out in [(2, 9), (-2, 3), (0, 6), (-7, 2)]:
        lo, hi = formulas.pad_bounds(left, 6, t_out)
        copied = reference.pad1d(np.arange(1.0, 7.0), left, t_out) != 0
        assert list(np.flatnonzero(copied)) == list(range(lo, max(lo, hi)))


_CACHE_PROBE = """
import numpy as np
from tinyemo.kernels import cpu
from tinyemo.kernels.cpu import adam, elementwise
x = np.linspace(-1, 1, 7, dtype=np.float32)
out = np.empty_like(x)
cpu.relu_forward(x, out)
cpu.axpby(2.0, x, -1.0, x, out)
cpu.adam_step(x.copy(), x, x.copy(), x * x, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
kernels = [elementwise.ops._relu, elementwise.ops._axpby, adam.adam_step]
print(sum(sum(k.stats.cache_hits.values()) for k in kernels),
      sum(sum(k.stats.cache_misses.values()) for k in kernels))
"""


def test_factory_kernels_load_from_the_cache_in_a_new_process():
    """A kernel made by a factory closes over its formula; its cache entry must be found again
    by the next process (a closure over a Numba dispatcher would miss on every run)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    runs = [subprocess.run([sys.executable, "-c", _CACHE_PROBE], capture_output=True, text=True,
                           env=env, timeout=300) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    hits, misses = map(int, runs[1].stdout.split())
    assert (hits, misses) == (3, 0)


def test_cached_kernel_names_carry_the_formulas_digest():
    """Editing kernels/formulas.py renames (hence recompiles) the CPU kernels that call it."""
    from tinyemo.kernels.cpu import adam, elementwise
    from tinyemo.kernels.cpu.formulas import SOURCE_DIGEST
    for kernel in (elementwise.ops._relu, elementwise.ops._mul, adam._adam_loop):
        assert kernel.py_func.__qualname__.endswith("_" + SOURCE_DIGEST)


def _compiled(name, n_args):
    """An @njit function calling the CPU build of formula ``name`` with ``n_args`` arguments."""
    from numba import njit
    from tinyemo.kernels.cpu import formulas as cpu_formulas
    formula = getattr(cpu_formulas, name)
    call = {1: lambda a: formula(a), 2: lambda a, b: formula(a, b)}[n_args]
    return njit(call)


@pytest.mark.parametrize("name,n_args", [("tanh_grad", 2), ("tanh_fast", 1), ("sigmoid_fast", 1),
                                         ("relu", 1), ("relu_grad", 2)])
def test_float32_arguments_compute_in_float32_and_float64_ones_in_float64(name, n_args):
    """The CPU build's float32 twin: float32 in, float32 arithmetic out, with the values NumPy
    gives running the formula's own source on float32 scalars (its literals taken as float32,
    NEP 50); float64 arguments still run the formula as written."""
    fn = _compiled(name, n_args)
    rng = np.random.default_rng(3)
    args32 = [rng.uniform(-9, 9, 200).astype(np.float32) for _ in range(n_args)]
    source = getattr(formulas, name)
    for values in zip(*args32):
        got = fn(*values)
        assert isinstance(got, (np.float32, float))
        want = source(*values)                     # NumPy float32 scalar arithmetic
        assert np.float32(got) == pytest.approx(np.float32(want), rel=2e-7, abs=2e-7)
    assert {str(s.return_type) for s in fn.nopython_signatures} == {"float32"}
    args64 = [a.astype(np.float64) for a in args32]
    got64 = np.array([fn(*values) for values in zip(*args64)])
    want64 = np.array([source(*values) for values in zip(*args64)])
    np.testing.assert_allclose(got64, want64, rtol=1e-15, atol=1e-300)
    assert "float64" in {str(s.return_type) for s in fn.nopython_signatures}


def test_the_float32_twin_keeps_index_formulas_as_written():
    """Formulas with integer or array arguments (windows, bounds) never take the twin."""
    fn = _compiled("ccc_swap_source", 1)
    assert [fn(i) for i in range(5)] == [formulas.ccc_swap_source(i) for i in range(5)]
    assert {str(s.return_type) for s in fn.nopython_signatures} == {"int64"}
