"""CPU kernels (``@njit``, ``cache=True``): the CPU's dispatch table. Every name here has a CUDA
twin in ``..cuda`` with the same argument order; the ops in ``tinyemo.ops`` call the table of
the target that holds the arrays (``tinyemo.backend.kernels``), array services included."""
from tinyemo.kernels.cpu.adam import adam_step
from tinyemo.kernels.cpu.arithmetic import sum_all
from tinyemo.kernels.cpu.arrays import contiguous, empty, fill, to_device, to_host, zeros
from tinyemo.kernels.cpu.ccc import ccc_backward, ccc_forward, ccc_swap_stats
from tinyemo.kernels.cpu.conv1d import (
    conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward,
)
from tinyemo.kernels.cpu.conv1d_fft import conv1d_kernels
from tinyemo.kernels.cpu.conv_transpose1d import (
    conv_transpose1d_backward, conv_transpose1d_backward_bias, conv_transpose1d_forward,
)
from tinyemo.kernels.cpu.elementwise import (
    axpby, dropout, mul, relu_backward, relu_forward, tanh_backward, tanh_forward,
)
from tinyemo.kernels.cpu.lstm import lstm_backward, lstm_forward
from tinyemo.kernels.cpu.max_pool1d import max_pool1d_backward, max_pool1d_forward
from tinyemo.kernels.cpu.moving_average1d import moving_average1d_backward, moving_average1d_forward
from tinyemo.kernels.cpu.pad1d import pad1d
from tinyemo.kernels.cpu.side_by_side import side_by_side
from tinyemo.kernels.table import NAMES

__all__ = list(NAMES)  # kernels/table.py: the names both targets provide
