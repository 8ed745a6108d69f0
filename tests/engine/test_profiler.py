"""The op profiler (``engine.profiler``): every op's forward and backward and the Adam step
recorded with their shapes, which inputs got gradients, and the hook removed afterwards."""
from __future__ import annotations

import numpy as np

from tinyemo import Tensor
from tinyemo.engine import autograd
from tinyemo.engine import functional as F
from tinyemo.engine.optim import Adam
from tinyemo.engine.profiler import profile


def test_records_ops_shapes_and_gradients():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    x = Tensor(rng.standard_normal((3, 10)))
    opt = Adam([w], lr=1e-3)
    with profile() as prof:
        y = F.tanh(F.conv1d(x, w, padding="same"))
        (y * y).sum().backward()
        opt.step()
    assert autograd.set_timer(None) is None          # the hook is gone once the block ends
    labels = [r.label for r in prof.records]
    assert labels[:2] == ["Conv1dFn.forward", "TanhFn.forward"]
    assert "Conv1dFn.backward" in labels and labels[-1] == "Adam.step"
    fwd = prof.records[0]
    assert fwd.inputs == ((3, 10), (4, 3, 2), None) and fwd.output == (4, 10)
    bwd = next(r for r in prof.records if r.label == "Conv1dFn.backward")
    assert bwd.grads == (False, True, False) and bwd.output == (4, 10)
    assert all(r.seconds > 0 for r in prof.records)
    totals = prof.totals()
    assert totals["Conv1dFn.forward"][1] == 1 and sum(c for _, c in totals.values()) == len(labels)
    assert "| Conv1dFn.forward | 1 |" in prof.table()


def test_results_are_the_same_with_and_without_it():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 12)), rng.standard_normal((2, 3, 3))
    plain = F.conv1d(x, w, padding=1).numpy()
    with profile():
        profiled = F.conv1d(x, w, padding=1).numpy()
    np.testing.assert_array_equal(plain, profiled)
