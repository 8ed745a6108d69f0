"""Argument checks shared by the ops: clear ``ValueError``s before any kernel runs."""
from __future__ import annotations

import numpy as np

from tinyemo.engine import backend

FLOAT_DTYPES = (np.float32, np.float64)


def check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float_array(name: str, array, ranks: tuple[int, ...]):
    if array.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got {array.dtype}")
    if len(array.shape) not in ranks:
        expected = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{name} must be {expected}, got shape {tuple(array.shape)}")
    if 0 in array.shape:
        raise ValueError(f"{name} must not be empty, got shape {tuple(array.shape)}")


def check_same_dtype(**arrays) -> None:
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{k} {v}" for k, v in dtypes.items())
        raise ValueError(f"dtypes differ: {listed}")


def check_conv_args(x, w, b, stride: int, c_in: int, c_out: int) -> int:
    """The checks conv1d and conv_transpose1d share; returns the validated stride."""
    check_float_array("input", x, (2, 3))
    check_float_array("weight", w, (3,))
    if b is not None:
        check_float_array("bias", b, (1,))
    check_same_dtype(input=x, weight=w, bias=b)
    stride = check_int("stride", stride, 1)
    channels = tuple(x.shape)[-2]  # the CUDA simulator's shapes refuse negative indices
    if channels != c_in:
        raise ValueError(f"input has {channels} channels but weight expects {c_in}")
    if b is not None and b.shape[0] != c_out:
        raise ValueError(f"bias has {b.shape[0]} entries but weight has {c_out} output channels")
    return stride


def check_groups(groups, **channels) -> int:
    """``groups`` as an int >= 1 that divides every named channel count."""
    groups = check_int("groups", groups, 1)
    for name, count in channels.items():
        if count % groups:
            raise ValueError(f"groups={groups} does not divide the {count} {name.replace('_', ' ')}")
    return groups


def split_groups(array, axis: int, groups: int) -> list:
    """``groups`` equal, consecutive views of ``array`` along ``axis`` (``[array]`` itself for
    one group). Views keep each row contiguous, which is what the kernels need on both targets."""
    if groups == 1:
        return [array]
    size = array.shape[axis] // groups
    head = (slice(None),) * axis
    return [array[head + (slice(g * size, (g + 1) * size),)] for g in range(groups)]


def as_batch(array):
    """(C, T) → (1, C, T) view; (N, C, T) unchanged. Returns (array3d, was_2d)."""
    if len(array.shape) == 2:
        return array.reshape((1,) + tuple(array.shape)), True
    return array, False


def contiguous(array):
    """A C-contiguous array on the same target (a copy only when needed; the CUDA target
    refuses strided views)."""
    return backend.kernels(array).contiguous(array)
