"""Numba kernels: plain arrays in, preallocated arrays out; no autograd, no allocation policy.

Installed as ``tinyemo.kernels`` (the repository folder is ``kernels/``), so tinyemo never
claims the top-level import name ``kernels``.

- ``cpu/<op>.py``: ``@njit`` kernels for one op each.
- ``cuda/<op>.py``: the same kernels for NVIDIA GPUs (numba-cuda), same names and argument order.
- ``reference.py``: slow, obviously-correct NumPy references (loops, literal matrices) that the
  fast kernels are tested against.
- ``shapes.py``: output-length arithmetic shared by kernels, references and the ops.
"""
