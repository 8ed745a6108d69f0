"""Invalid arguments to the ops raise a clear ValueError before any kernel runs."""
from __future__ import annotations

import numpy as np
import pytest

from tinyemo.engine import functional as F

x = np.zeros((2, 10), np.float32)
w = np.zeros((3, 2, 3), np.float32)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv1d(x.astype(np.int32), w), "float32 or float64"),
    (lambda: F.conv1d(x, w.astype(np.float64)), "dtypes differ"),
    (lambda: F.conv1d(x[0], w), "2-D or 3-D"),
    (lambda: F.conv1d(x, w[0]), "3-D"),
    (lambda: F.conv1d(x, np.zeros((3, 4, 3), np.float32)), "channels"),
    (lambda: F.conv1d(x, w, np.zeros(4, np.float32)), "bias has 4"),
    (lambda: F.conv1d(x, w, stride=0), "stride must be >= 1"),
    (lambda: F.conv1d(x, w, dilation=-1), "dilation must be >= 1"),
    (lambda: F.conv1d(x, w, padding=-2), "padding must be >= 0"),
    (lambda: F.conv1d(x, w, padding=(1, -1)), "padding right must be >= 0"),
    (lambda: F.conv1d(x, w, padding="valid?"), "padding must be"),
    (lambda: F.conv1d(x, w, stride=2, padding="same"), "stride=1"),
    (lambda: F.conv1d(x, w, dilation=6), "output would have"),
    (lambda: F.conv1d(x, w, stride=1.5), "stride must be an integer"),
    (lambda: F.conv1d(np.zeros((2, 0), np.float32), w), "empty"),
    (lambda: F.conv_transpose1d(x, np.zeros((3, 2, 3), np.float32)), "channels"),
    (lambda: F.conv_transpose1d(x, np.zeros((2, 2, 3), np.float32), stride=0), "stride"),
    (lambda: F.max_pool1d(x, 11), "shorter than kernel_size"),
    (lambda: F.max_pool1d(x, 0), "kernel_size must be >= 1"),
    (lambda: F.ccc(np.zeros(3, np.float32), np.zeros(4, np.float32)), "elements"),
    (lambda: F.pad1d(x, -6, -5), "leaves"),
])
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
