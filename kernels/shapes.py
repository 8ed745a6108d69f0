"""Output-length arithmetic for the 1-D ops (plain Python, shared by every target)."""
from __future__ import annotations

__all__ = ["conv1d_out_len", "conv_transpose1d_out_len", "max_pool1d_out_len"]


def conv1d_out_len(t_in: int, kernel_size: int, stride: int = 1, dilation: int = 1,
                   pad_left: int = 0, pad_right: int = 0) -> int:
    """Frames a conv produces: ``(T + pads - dilation·(K-1) - 1) // stride + 1``."""
    return (t_in + pad_left + pad_right - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_transpose1d_out_len(t_in: int, kernel_size: int, stride: int = 1) -> int:
    """Frames the transposed conv y = T x produces: ``n_y = s·(n_x − 1) + n_w`` (the paper)."""
    return stride * (t_in - 1) + kernel_size


def max_pool1d_out_len(t_in: int, kernel_size: int, stride: int) -> int:
    """Windows that fit entirely: ``(T - K) // s + 1``; trailing frames that do not fill a
    window are dropped (PyTorch's ``ceil_mode=False``)."""
    return (t_in - kernel_size) // stride + 1
