"""The engine: tensors with hand-written autograd (:mod:`.autograd`), one file per op with its
forward and backward side by side (:mod:`.ops`), the functional API over them
(:mod:`.functional`), layers (:mod:`.nn`), Adam (:mod:`.optim`), checkpoints, and the CPU/CUDA
backend with its memory pools. The kernels themselves are :mod:`tinyemo.kernels`."""
