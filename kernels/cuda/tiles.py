"""Tiled matrix products in shared memory: the building blocks of the conv contractions on CUDA.

Every conv kernel is a matrix product C (M × N) = A (M × R) · B (R × N) whose operands are read
from the conv's arrays by index arithmetic (the implicit im2col: no column matrix is built). A
block of (x, y) threads owns a tile of ``tm = REG_M·y`` rows × ``tn = REG_N·x`` columns of C;
each thread accumulates ``REG_M × REG_N`` of them in registers (rows ``ty + r·y``, columns
``tx + s·x``: neighbouring threads own neighbouring columns, so the stores coalesce). The
reduction runs in steps of ``tile_k``: the block stages A (tile_k × tm) and B (tile_k × tn) in
shared memory (zero outside the matrices), synchronises, and every thread multiplies its slice.
Each A and B value read from global memory is then used ``tn`` and ``tm`` times instead of once.

Sums accumulate in the arrays' dtype: float32 for float32 arrays (as the CPU's BLAS GEMMs do;
``bench/cuda_accuracy.py`` measures what float64 would buy), float64 for float64 arrays.

Shared layout (one dynamic array of the arrays' dtype): A at ``[kk·lda + i]`` with
``lda = tm + 1``, B after it at ``[tile_k·lda + kk·ldb + j]`` with ``ldb = tn + 1`` (the odd
leading dimensions keep transposed stores free of bank conflicts).

The staging loops give each thread the flat slots ``tid, tid + n_threads, …`` of a tile; the
divisions that turn a slot into (row, column) happen once per kernel (:func:`first_slot`), the
loops step with additions (:func:`next_slot`): 64-bit integer division is slow on a GPU.
"""
from __future__ import annotations

from numba import cuda

from tinyemo.kernels.cuda import config

__all__ = ["REG_M", "REG_N", "zero_tile", "first_slot", "next_slot", "multiply_tiles",
           "geometry", "launch"]

# The register tile each thread accumulates: compile-time constants (local arrays need them).
REG_M = 4
REG_N = 4


@cuda.jit(device=True)
def zero_tile(acc):
    for r in range(REG_M):
        for s in range(REG_N):
            acc[r, s] = 0


@cuda.jit(device=True)
def first_slot(inner):
    """(outer, inner index, outer step, inner step) of this thread's first slot in a tile whose
    rows are ``inner`` long; then ``next_slot`` walks the thread's later slots."""
    tid = cuda.threadIdx.y * cuda.blockDim.x + cuda.threadIdx.x
    n_threads = cuda.blockDim.x * cuda.blockDim.y
    return tid // inner, tid % inner, n_threads // inner, n_threads % inner


@cuda.jit(device=True)
def next_slot(outer, inner_index, outer_step, inner_step, inner):
    """The slot ``n_threads`` after (outer, inner_index) in a tile whose rows are ``inner`` long."""
    inner_index += inner_step
    outer += outer_step
    if inner_index >= inner:
        inner_index -= inner
        outer += 1
    return outer, inner_index


@cuda.jit(device=True)
def multiply_tiles(buf, tile_k, lda, ldb, acc, a_reg, b_reg):
    """acc[r, s] += Σ_kk A[kk, ty + r·y] · B[kk, tx + s·x] over the staged tiles in ``buf``."""
    ty = cuda.threadIdx.y
    tx = cuda.threadIdx.x
    by = cuda.blockDim.y
    bx = cuda.blockDim.x
    b_start = tile_k * lda
    for kk in range(tile_k):
        for r in range(REG_M):
            a_reg[r] = buf[kk * lda + ty + r * by]
        for s in range(REG_N):
            b_reg[s] = buf[b_start + kk * ldb + tx + s * bx]
        for r in range(REG_M):
            for s in range(REG_N):
                acc[r, s] += a_reg[r] * b_reg[s]


def geometry(m: int, n: int) -> tuple[int, int, int, int]:
    """(threads x, threads y, tile rows tm, tile columns tn) for an m × n product (config)."""
    ty = max(1, min(-(-m // REG_M), config.GEMM_MAX_Y, config.GEMM_THREADS))
    tx = max(1, min(config.GEMM_THREADS // ty, -(-n // REG_N), config.GEMM_MAX_X))
    return tx, ty, ty * REG_M, tx * REG_N


def launch(kernel, m: int, n: int, groups: int, itemsize: int, *args) -> None:
    """Launch ``kernel(*args, tile_k)`` over an m × n product, ``groups`` times (grid z: the
    kernel's batch, phase or tap-and-split index), with its staging buffer in shared memory."""
    if m <= 0 or n <= 0 or groups <= 0:
        return
    tx, ty, tm, tn = geometry(m, n)
    tile_k = config.GEMM_TILE_K
    grid = (-(-n // tn), -(-m // tm), groups)
    shared_bytes = tile_k * (tm + 1 + tn + 1) * itemsize
    kernel[grid, (tx, ty), 0, shared_bytes](*args, tile_k)
