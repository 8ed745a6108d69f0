"""Numba kernels: plain arrays in, preallocated arrays out; no autograd, no allocation policy.

Installed as ``tinyemo.kernels`` (the repository folder is ``kernels/``), so tinyemo never
claims the top-level import name ``kernels``.

- ``formulas.py``: the per-element mathematics, written once as plain Python and built for each
  target (``cpu/formulas.py``, ``cuda/formulas.py``), so a kernel and its twin cannot drift.
- ``float32_twin.py``: how both builds keep float32 calls of a formula in float32 arithmetic.
- ``elementwise.py``: the element-wise kernels, written once over each target's map/zip
  factories (``cpu/elementwise.py``, ``cuda/elementwise.py``).
- ``cpu/<op>.py``: ``@njit`` kernels for one op each.
- ``cuda/<op>.py``: the same kernels for NVIDIA GPUs (numba-cuda), same names and argument order.
- ``table.py``: the names each target's table (``cpu``, ``cuda``) provides, array services
  (``empty``, ``zeros``, ``fill``, ``to_device``, ``to_host``, ``contiguous``) and the conv
  path choice (``conv1d_kernels``) included, so callers never branch on the device.
- ``reference.py``: slow, obviously-correct NumPy references (loops, literal matrices) that the
  fast kernels are tested against.
- ``shapes.py``: output-length arithmetic shared by kernels, references and the ops.
"""
