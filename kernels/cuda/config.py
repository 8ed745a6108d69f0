"""Launch settings of the CUDA kernels, read by the launchers when they launch, never at import.

Tests shrink them (``monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)``) so tiny inputs span
several blocks and tiles, blocks end part-full (the bounds checks) and the block reductions run
on a non-power-of-two block. Any positive values work.

- ``THREADS_PER_BLOCK``: the one-thread-per-element kernels and the block reductions; the
  environment variable ``TINYEMO_CUDA_THREADS_PER_BLOCK`` sets it at import (1 to 1024; e.g. 8
  in the CUDA simulator, which starts one Python thread per CUDA thread).
- ``GEMM_*``: the tiled, shared-memory kernels of the conv contractions (``tiles.py``). A block
  of (x, y) threads computes a tile of ``GEMM_REG_M·y`` rows × ``GEMM_REG_N·x`` columns; at most
  ``GEMM_THREADS`` threads, ``GEMM_MAX_Y`` rows and ``GEMM_MAX_X`` columns of threads (so a
  one-row output, the final 1×1 conv, still gets a wide tile, and shared memory stays under
  48 KiB in float64); ``GEMM_TILE_K`` reduction steps are staged in shared memory at a time.
  The weight gradient, a long reduction into a small output, splits its frames over enough
  blocks to fill the GPU (``GEMM_TARGET_BLOCKS``, two per H200 multiprocessor) but gives each
  at least ``GEMM_MIN_SPLIT`` frames; the partial sums are added in a fixed order
  (deterministic).
- ``GEMM_REG_M`` / ``GEMM_REG_N`` (``tiles.py``) are compile-time constants: the register tile.
"""
import os


def _threads_per_block(default: int = 128) -> int:
    name = "TINYEMO_CUDA_THREADS_PER_BLOCK"
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise ValueError(f"{name} must be a whole number from 1 to 1024, got {text!r}")
    return int(text)


THREADS_PER_BLOCK = _threads_per_block()

GEMM_THREADS = 256
GEMM_MAX_Y = 16
GEMM_MAX_X = 64
GEMM_TILE_K = 16
GEMM_TARGET_BLOCKS = 264
GEMM_MIN_SPLIT = 256
