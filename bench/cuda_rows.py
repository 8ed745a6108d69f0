"""The CUDA side of ``bench_kernels.py``: each row's forward and backward on device arrays.

tinyemo runs its CUDA twins (``tinyemo.kernels.cuda``: the names and argument order of
``tinyemo.kernels.cpu``). Inputs are drawn on the host with the CPU row's generator calls and
copied to the device before timing; each timed call allocates its outputs on the device exactly
where the CPU row allocates them (``kernels.cuda.empty``, as the ops do), launches the kernels
and ends with ``numba.cuda.synchronize()``, so the time covers the GPU work. The conv row that
runs the FFT path on the CPU has no CUDA FFT kernel: on CUDA it times the direct conv.
PyTorch's peer is the CPU row's own closures with tensors on ``cuda`` and
``torch.cuda.synchronize()`` at the end of each call (see ``bench_kernels._torch_device``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["tinyemo_cuda", "unusable", "setup", "gpu_info", "simulated", "SIMULATOR_TIMING"]

# Under the simulator a timing says nothing about a GPU: call each function as few times as
# time_interleaved allows (first call, the call that sizes a round, one timed call).
SIMULATOR_TIMING = dict(rounds=1, calls=1, settle=0.0, warmup=0.0)


def simulated() -> bool:
    """True when numba runs CUDA kernels in its simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    from numba import config
    return bool(config.ENABLE_CUDASIM)


def tinyemo_cuda(row, rng):
    """(forward, backward) closures for ``row`` (a ``bench_kernels.rows()`` entry) on CUDA."""
    from numba import cuda

    from tinyemo.engine.backend import cuda_module
    k = cuda_module()
    build = {"conv": _conv, "conv_transpose": _conv_transpose, "max_pool": _max_pool}[row["kind"]]
    fwd, bwd = build(k, rng, **row["shape"])

    def forward():
        fwd()
        cuda.synchronize()

    def backward():
        bwd()
        cuda.synchronize()
    return forward, backward


def _normal(rng, shape, scale=1.0):
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)


def _conv(k, rng, c_in, c_out, kernel, t, t_out, dilation, left):
    x = k.to_device(_normal(rng, (1, c_in, t)))
    w = k.to_device(_normal(rng, (c_out, c_in, kernel), (c_in * kernel) ** -0.5))
    b = k.to_device(_normal(rng, c_out))
    gy = k.to_device(_normal(rng, (1, c_out, t_out)))

    def fwd():
        k.conv1d_forward(x, w, b, 1, dilation, left, k.empty((1, c_out, t_out), np.float32))

    def bwd():
        gx = k.empty(x.shape, np.float32)
        gw = k.empty(w.shape, np.float32)
        gb = k.empty(b.shape, np.float32)
        k.conv1d_backward_input(gy, w, 1, dilation, left, gx)
        k.conv1d_backward_weight(x, gy, 1, dilation, left, gw)
        k.conv1d_backward_bias(gy, gb)
    return fwd, bwd


def _conv_transpose(k, rng, c_in, c_out, kernel, stride, n_x, n_y):
    x = k.to_device(_normal(rng, (1, c_in, n_x)))
    w = k.to_device(_normal(rng, (c_in, c_out, kernel), c_in ** -0.5))
    b = k.to_device(_normal(rng, c_out))
    gy = k.to_device(_normal(rng, (1, c_out, n_y)))

    def fwd():
        k.conv_transpose1d_forward(x, w, b, stride, k.empty((1, c_out, n_y), np.float32))

    def bwd():
        gx = k.empty(x.shape, np.float32)
        gw = k.empty(w.shape, np.float32)
        gb = k.empty(b.shape, np.float32)
        k.conv_transpose1d_backward(x, gy, w, stride, gx, gw)
        k.conv_transpose1d_backward_bias(gy, gb)
    return fwd, bwd


def _max_pool(k, rng, c, t, kernel, stride, t_out):
    x = k.to_device(_normal(rng, (1, c, t)))
    gy = k.to_device(_normal(rng, (1, c, t_out)))
    argmax = k.empty((1, c, t_out), np.int64)
    k.max_pool1d_forward(x, kernel, stride, k.empty((1, c, t_out), np.float32), argmax)

    def fwd():
        y = k.empty((1, c, t_out), np.float32)
        k.max_pool1d_forward(x, kernel, stride, y, k.empty((1, c, t_out), np.int64))

    def bwd():
        k.max_pool1d_backward(gy, argmax, k.empty(x.shape, np.float32))
    return fwd, bwd


def unusable():
    """Why ``--device cuda`` cannot run here (no numba-cuda, no GPU, no simulator), or None."""
    from tinyemo.engine.backend import cuda_module
    try:
        cuda_module()
    except RuntimeError as exc:
        return str(exc)
    return None


def setup(torch, timing):
    """(peer, timing, notes) for a CUDA run: PyTorch only with CUDA, and not under the simulator,
    where a timing says nothing about a GPU and each function is called as few times as can be."""
    notes = []
    if torch is not None and not torch.cuda.is_available():
        notes.append("PyTorch has no usable CUDA here: tinyemo alone")
        torch = None
    if simulated():
        notes.append("CUDA simulator (NUMBA_ENABLE_CUDASIM=1): timings say nothing about a GPU"
                     + ("; no PyTorch peer" if torch is not None else ""))
        torch, timing = None, SIMULATOR_TIMING
    return torch, timing, notes


def gpu_info(torch) -> dict:
    """The GPU (or the simulator), numba-cuda's version and PyTorch's CUDA, for the JSON."""
    from importlib.metadata import PackageNotFoundError, version

    from numba import cuda
    try:
        numba_cuda = version("numba-cuda")
    except PackageNotFoundError:
        numba_cuda = None
    info = {"simulator": simulated(), "numba_cuda": numba_cuda, "name": None,
            "compute_capability": None,
            "torch_cuda": getattr(torch.version, "cuda", None) if torch is not None else None}
    if not simulated():
        dev = cuda.get_current_device()
        name = dev.name
        info["name"] = name.decode() if isinstance(name, bytes) else name
        info["compute_capability"] = list(dev.compute_capability)
    return info
