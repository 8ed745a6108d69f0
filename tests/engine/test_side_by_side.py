"""Independent kernel calls side by side (the table service ``side_by_side``): on the CPU with
two threads and enough work, on two threads at once with BLAS pinned to one thread each (and
restored), else in turn; a bidirectional LSTM layer, whose directions go side by side, gives
the same values and gradients as with one thread, and as the loop reference."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import tinyemo.kernels.cpu as cpu
from tinyemo.kernels import reference as R
from tinyemo.kernels.cpu import blas
from tinyemo.kernels.cpu.side_by_side import MIN_WORK
from tinyemo.util.runtime import set_threads

from tinyemo import Tensor
from tinyemo.engine import functional as F

pytestmark = pytest.mark.skipif(not blas.can_set_threads(), reason="needs NumPy's OpenBLAS")


@pytest.fixture
def two_threads():
    import numba
    before = numba.get_num_threads()
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba was started with one thread")
    set_threads(2)
    yield
    set_threads(before)


def _recorder(seen, pause=0.05):
    def task():
        start = time.perf_counter()
        time.sleep(pause)         # both alive at once if they run side by side
        seen.append((threading.get_ident(), blas._THREADS[0](), start, time.perf_counter()))
    return task


def test_two_threads_and_enough_work_run_side_by_side_with_one_blas_thread_each(two_threads):
    blas_before = blas._THREADS[0]()
    seen: list = []
    cpu.side_by_side([_recorder(seen), _recorder(seen)], work=MIN_WORK)
    assert len(seen) == 2 and seen[0][0] != seen[1][0]          # two threads
    assert [s[1] for s in seen] == [1, 1]                        # BLAS pinned to one each
    (_, _, a0, a1), (_, _, b0, b1) = seen
    assert a0 < b1 and b0 < a1                                   # at the same time
    assert blas._THREADS[0]() == blas_before                    # and restored


def test_little_work_or_one_thread_runs_in_turn(two_threads):
    seen: list = []
    cpu.side_by_side([_recorder(seen, 0), _recorder(seen, 0)], work=MIN_WORK - 1)
    assert {s[0] for s in seen} == {threading.get_ident()}
    set_threads(1)
    seen.clear()
    cpu.side_by_side([_recorder(seen, 0), _recorder(seen, 0)], work=MIN_WORK)
    assert {s[0] for s in seen} == {threading.get_ident()}


def test_a_task_error_is_raised_after_every_task_ended(two_threads):
    ended = []

    def fails():
        raise RuntimeError("task failed")

    def slow():
        time.sleep(0.05)
        ended.append(True)
    with pytest.raises(RuntimeError, match="task failed"):
        cpu.side_by_side([slow, fails], work=MIN_WORK)
    assert ended == [True]
    with pytest.raises(RuntimeError, match="task failed"):
        cpu.side_by_side([fails, slow], work=MIN_WORK)
    assert ended == [True, True]


def _layer(x, params, threads):
    set_threads(threads)
    xt = Tensor(x, requires_grad=True)
    ws = [Tensor(p, requires_grad=True) for p in params]
    y = F.lstm(xt, *ws[:4], reverse_weights=tuple(ws[4:]))
    gy = np.random.default_rng(5).standard_normal(y.shape)
    (y * Tensor(gy)).sum().backward()
    return [y.numpy(), xt.grad] + [w.grad for w in ws]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_a_bidirectional_layer_side_by_side_equals_one_thread_and_the_reference(two_threads,
                                                                               dtype, tol):
    rng = np.random.default_rng(0)
    c_in, h, t = 24, 8, 1200                     # each direction: 1200·32·32 > MIN_WORK
    assert t * 4 * h * (c_in + h) >= MIN_WORK
    x = rng.standard_normal((c_in, t)).astype(dtype)
    params = [(rng.uniform(-0.35, 0.35, s)).astype(dtype)
              for s in ((4 * h, c_in), (4 * h, h), (4 * h,), (4 * h,)) * 2]
    side = _layer(x, params, 2)
    alone = _layer(x, params, 1)
    for a, b in zip(side, alone):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    forward = R.lstm(x[None].astype(np.float64), *params[:4], False)[0]
    backward = R.lstm(x[None].astype(np.float64), *params[4:], True)[0]
    np.testing.assert_allclose(side[0], np.concatenate([forward, backward]), rtol=tol, atol=tol)


def test_overlapping_single_threaded_blocks_restore_the_count_when_the_last_ends(two_threads):
    before = blas._THREADS[0]()
    assert before == 2
    first, second = blas.single_threaded(), blas.single_threaded()
    first.__enter__()
    second.__enter__()                 # e.g. another thread's block, begun inside the first
    first.__exit__(None, None, None)
    assert blas._THREADS[0]() == 1     # the second still runs its GEMMs side by side
    second.__exit__(None, None, None)
    assert blas._THREADS[0]() == before
