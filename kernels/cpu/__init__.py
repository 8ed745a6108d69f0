"""CPU kernels (``@njit``, ``cache=True``). Every name here has a CUDA twin in ``..cuda`` with
the same argument order; the ops in ``tinyemo.ops`` call whichever target holds the arrays."""
from .activations import relu_backward, relu_forward, tanh_backward, tanh_forward
from .adam import adam_step
from .arithmetic import axpby, mul, sum_all
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
]
