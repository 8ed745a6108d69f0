"""CUDA kernels (numba-cuda): the twins of ``..cpu``, same names and argument order, plus the
array services ``tinyemo.backend`` needs (``empty``, ``zeros``, ``to_device``).

Each public function is a thin launcher: it sizes the grid from ``config.THREADS_PER_BLOCK``
and launches ``@cuda.jit`` kernels that fill preallocated, C-contiguous device arrays. Only this
package imports ``numba.cuda``; ``tinyemo.backend.cuda_module()`` imports it on first use.
Under ``NUMBA_ENABLE_CUDASIM=1`` the same kernels run in numba's CUDA simulator.
"""
from .activations import relu_backward, relu_forward, tanh_backward, tanh_forward
from .adam import adam_step
from .arithmetic import axpby, mul, sum_all
from .arrays import empty, fill, to_device, zeros
from .ccc import ccc_backward, ccc_forward, ccc_swap_stats
from .conv1d import (conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight,
                     conv1d_forward)
from .conv_transpose1d import (conv_transpose1d_backward_bias, conv_transpose1d_backward_input,
                               conv_transpose1d_backward_weight, conv_transpose1d_forward)
from .max_pool1d import max_pool1d_backward, max_pool1d_forward
from .pad1d import pad1d

__all__ = [
    "adam_step", "axpby", "mul", "sum_all", "ccc_backward", "ccc_forward", "ccc_swap_stats",
    "conv1d_backward_bias", "conv1d_backward_input", "conv1d_backward_weight", "conv1d_forward",
    "conv_transpose1d_backward_bias", "conv_transpose1d_backward_input",
    "conv_transpose1d_backward_weight", "conv_transpose1d_forward",
    "max_pool1d_backward", "max_pool1d_forward", "pad1d",
    "relu_backward", "relu_forward", "tanh_backward", "tanh_forward",
    "empty", "zeros", "to_device", "fill",
]
