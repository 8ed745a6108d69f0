"""Launch settings of the CUDA kernels: the one block size every launcher reads.

Launchers read ``THREADS_PER_BLOCK`` when they launch, never at import, so tests shrink it
(``monkeypatch.setattr(config, "THREADS_PER_BLOCK", 5)``) to make tiny inputs span several
blocks and exercise the bounds checks and the block reductions. Any positive value works; the
block reductions do not need a power of two.
"""
THREADS_PER_BLOCK = 128
