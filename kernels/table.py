"""The names every target's kernel table (``kernels/cpu``, ``kernels/cuda``) provides, with the
same arguments on each: the kernels the ops call and the array services ``tinyemo.backend``
asks for. ``tests/cuda/test_cuda_mirror.py`` checks both tables against this list."""
from __future__ import annotations

NAMES = (
    "adam_step", "axpby", "mul", "sum_all", "ccc_backward", "ccc_forward", "ccc_swap_stats",
    "conv1d_backward_bias", "conv1d_backward_input", "conv1d_backward_weight", "conv1d_forward",
    "conv1d_kernels",
    "conv_transpose1d_backward", "conv_transpose1d_backward_bias", "conv_transpose1d_forward",
    "lstm_backward", "lstm_forward", "max_pool1d_backward", "max_pool1d_forward", "pad1d",
    "moving_average1d_backward", "moving_average1d_forward",
    "relu_backward", "relu_forward", "tanh_backward", "tanh_forward", "dropout", "side_by_side",
    "empty", "zeros", "fill", "to_device", "to_host", "contiguous",
)
