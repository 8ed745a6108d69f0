"""CUDA kernels (numba-cuda): the CUDA target's dispatch table, the twins of ``..cpu`` with the
same names and argument order, array services (``empty``, ``zeros``, ``to_device`` …) included.

Each public function is a thin launcher: it sizes the grid from ``config`` (one thread per
element, a block per reduction, or ``tiles.py``'s shared-memory tiles for the conv contractions)
and launches ``@cuda.jit`` kernels that fill preallocated, C-contiguous device arrays. Only this
package imports ``numba.cuda``; ``tinyemo.backend.cuda_module()`` imports it on first use.
Under ``NUMBA_ENABLE_CUDASIM=1`` the same kernels run in numba's CUDA simulator.
"""
from tinyemo.kernels.cuda.adam import adam_step
from tinyemo.kernels.cuda.arithmetic import sum_all
from tinyemo.kernels.cuda.arrays import contiguous, empty, fill, to_device, to_host, zeros
from tinyemo.kernels.cuda.ccc import ccc_backward, ccc_forward, ccc_swap_stats
from tinyemo.kernels.cuda.conv1d import (
    conv1d_backward_bias, conv1d_backward_input, conv1d_backward_weight, conv1d_forward,
    conv1d_kernels,
)
from tinyemo.kernels.cuda.conv_transpose1d import (
    conv_transpose1d_backward, conv_transpose1d_backward_bias, conv_transpose1d_forward,
)
from tinyemo.kernels.cuda.elementwise import (
    axpby, dropout, mul, relu_backward, relu_forward, tanh_backward, tanh_forward,
)
from tinyemo.kernels.cuda.lstm import lstm_backward, lstm_forward
from tinyemo.kernels.cuda.max_pool1d import max_pool1d_backward, max_pool1d_forward
from tinyemo.kernels.cuda.moving_average1d import (
    moving_average1d_backward, moving_average1d_forward,
)
from tinyemo.kernels.cuda.pad1d import pad1d
from tinyemo.kernels.cuda.side_by_side import side_by_side
from tinyemo.kernels.table import NAMES

__all__ = list(NAMES)  # kernels/table.py: the names both targets provide
