"""The table service ``side_by_side(tasks, work)`` on the CUDA target: the tasks run in turn
(their kernels queue on the stream; the GPU is already parallel within each). Its CPU twin,
``kernels/cpu/side_by_side.py``, spreads them over the cores."""
from __future__ import annotations

__all__ = ["side_by_side"]


def side_by_side(tasks, work: float) -> None:
    """Run every callable of ``tasks`` once, in turn (``work`` is the CPU's cost hint)."""
    for task in tasks:
        task()
