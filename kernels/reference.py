"""Slow, obviously-correct NumPy references for every kernel: loops and literal matrices.

The fast kernels are tested against these; these are tested against central differences and
against each other (the transposed conv's literal T is the strided conv's matrix transposed).
Shapes as in the kernels: x (N, C, T), conv weight (C_out, C_in, K), transposed-conv weight
(C_in, C_out, K). Everything returns new arrays in the input's dtype.
"""
from __future__ import annotations

import numpy as np

from tinyemo.kernels.shapes import conv1d_out_len, conv_transpose1d_out_len, max_pool1d_out_len

__all__ = ["conv1d", "conv_matrix", "transposed_conv_matrix", "conv_transpose1d", "max_pool1d",
           "max_pool1d_backward", "ccc", "ccc_grad", "relu", "tanh", "pad1d", "adam_step", "lstm",
           "moving_average_matrix", "moving_average1d", "dropout"]


def conv1d(x, w, b, stride=1, dilation=1, pad_left=0, pad_right=0, groups=1):
    """y[n, o, t] = b[o] + Σ_c Σ_k w[o, c, k] · x[n, g·C_in/G + c, t·stride + k·dilation −
    pad_left], g = o // (C_out/G) the group of output o, G = ``groups``, w (C_out, C_in/G, K)."""
    n_seq, _, t_in = x.shape
    c_out, c_group, k_size = w.shape
    t_out = conv1d_out_len(t_in, k_size, stride, dilation, pad_left, pad_right)
    y = np.zeros((n_seq, c_out, t_out), dtype=x.dtype)
    for n in range(n_seq):
        for o in range(c_out):
            first = o // (c_out // groups) * c_group   # the group's first input channel
            for t in range(t_out):
                acc = b[o]
                for c in range(c_group):
                    for k in range(k_size):
                        i = t * stride + k * dilation - pad_left
                        if 0 <= i < t_in:
                            acc += w[o, c, k] * x[n, first + c, i]
                y[n, o, t] = acc
    return y


def conv_matrix(t_in, w, stride=1, dilation=1, pad_left=0, pad_right=0):
    """The literal (T_out, T_in) matrix M of a single-channel conv with taps w (K,): y = M x."""
    k_size = len(w)
    t_out = conv1d_out_len(t_in, k_size, stride, dilation, pad_left, pad_right)
    m = np.zeros((t_out, t_in), dtype=np.asarray(w).dtype)
    for t in range(t_out):
        for k in range(k_size):
            i = t * stride + k * dilation - pad_left
            if 0 <= i < t_in:
                m[t, i] += w[k]
    return m


def transposed_conv_matrix(n_x, w, stride):
    """The paper's T = [T_1 … T_nx], T_i = [0 (s(i−1) zeros), wᵀ, 0 (s(n_x−i) zeros)]ᵀ.

    Returns the literal (n_y, n_x) matrix, n_y = s(n_x − 1) + n_w, built column by column.
    """
    w = np.asarray(w)
    n_w = len(w)
    n_y = conv_transpose1d_out_len(n_x, n_w, stride)
    columns = []
    for i in range(1, n_x + 1):
        columns.append(np.concatenate([np.zeros(stride * (i - 1), w.dtype), w,
                                       np.zeros(stride * (n_x - i), w.dtype)]))
    t = np.stack(columns, axis=1)
    assert t.shape == (n_y, n_x)
    return t


def conv_transpose1d(x, w, b, stride=1, groups=1):
    """y_o = Σ_c T(w[c, o mod C_out/G]) x_c + b_o with the literal T of
    :func:`transposed_conv_matrix`, c over the inputs of output o's group; w (C_in, C_out/G, K),
    G = ``groups``."""
    n_seq, c_in, n_x = x.shape
    _, c_group, k_size = w.shape
    c_out, in_group = c_group * groups, c_in // groups
    n_y = conv_transpose1d_out_len(n_x, k_size, stride)
    y = np.zeros((n_seq, c_out, n_y), dtype=x.dtype)
    for n in range(n_seq):
        for o in range(c_out):
            g = o // c_group
            y[n, o] = b[o]
            for c in range(g * in_group, (g + 1) * in_group):
                y[n, o] += transposed_conv_matrix(n_x, w[c, o % c_group], stride) @ x[n, c]
    return y


def max_pool1d(x, kernel_size, stride):
    """(y, argmax): the max of each full window and its time index (first maximum on ties)."""
    n_seq, n_ch, t_in = x.shape
    t_out = max_pool1d_out_len(t_in, kernel_size, stride)
    y = np.zeros((n_seq, n_ch, t_out), dtype=x.dtype)
    arg = np.zeros((n_seq, n_ch, t_out), dtype=np.int64)
    for n in range(n_seq):
        for c in range(n_ch):
            for t in range(t_out):
                window = x[n, c, t * stride:t * stride + kernel_size]
                arg[n, c, t] = t * stride + int(np.argmax(window))
                y[n, c, t] = window.max()
    return y, arg


def max_pool1d_backward(gy, argmax, t_in):
    """gx with each gy added at its window's argmax."""
    gx = np.zeros(gy.shape[:2] + (t_in,), dtype=gy.dtype)
    for n, c, t in np.ndindex(*gy.shape):
        gx[n, c, argmax[n, c, t]] += gy[n, c, t]
    return gx


def ccc(x, y):
    """Lin's concordance correlation coefficient with population moments (x: prediction)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return 1.0 if den == 0 else 2 * cov / den


def ccc_grad(x, y):
    """∂CCC/∂x by the quotient rule, written out term by term."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    t = len(x)
    num = 2 * np.mean((x - x.mean()) * (y - y.mean()))
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    if den == 0:
        return np.zeros(t)
    d_num = 2 * (y - y.mean()) / t
    d_den = 2 * (x - x.mean()) / t + 2 * (x.mean() - y.mean()) / t
    return (d_num * den - num * d_den) / den ** 2


def relu(x):
    return np.where(x > 0, x, 0).astype(x.dtype)


def tanh(x):
    return np.tanh(x)


def pad1d(x, left, t_out):
    """y[..., t] = x[..., t − left] where that index exists, else 0."""
    y = np.zeros(x.shape[:-1] + (t_out,), dtype=x.dtype)
    for t in range(t_out):
        if 0 <= t - left < x.shape[-1]:
            y[..., t] = x[..., t - left]
    return y


def adam_step(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """Returns (param, m, v) after one Adam step (Kingma & Ba, Algorithm 1, with L2)."""
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def moving_average_matrix(t_len, left, right):
    """The literal (T, T) matrix A of the moving average, y = A x: row t holds 1/n_t on the
    n_t frames t − left … t + right that exist (the window shrinks at the edges)."""
    a = np.zeros((t_len, t_len))
    for t in range(t_len):
        lo, hi = max(0, t - left), min(t_len, t + right + 1)
        a[t, lo:hi] = 1.0 / (hi - lo)
    return a


def moving_average1d(x, left, right):
    """y[..., t] = mean of x[..., t − left … t + right] over the frames present."""
    a = moving_average_matrix(x.shape[-1], left, right)
    return (x @ a.T).astype(x.dtype)


def dropout(x, keep_draws, p):
    """x / (1 − p) where the draw u ≥ p, else 0; ``keep_draws`` broadcasts against x (a (C, 1)
    column drops whole channels)."""
    keep = np.broadcast_to(np.asarray(keep_draws) >= p, x.shape)
    return np.where(keep, x / (1 - p), 0).astype(x.dtype)


def lstm(x, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """y (N, H, T): one LSTM direction over x (N, C, T), frame by frame and unit by unit, with
    PyTorch's equations and gate order (i, f, g, o), h_0 = c_0 = 0:
    z = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh; i, f, o = σ(z_i, z_f, z_o); g = tanh(z_g);
    c_t = f·c_{t−1} + i·g; h_t = o·tanh(c_t). ``reverse`` runs t from T − 1 down to 0."""
    n_seq, c_in, t_len = x.shape
    h = w_hh.shape[1]
    y = np.zeros((n_seq, h, t_len), dtype=x.dtype)

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))
    for n in range(n_seq):
        h_prev = np.zeros(h, dtype=x.dtype)
        c_prev = np.zeros(h, dtype=x.dtype)
        for t in (range(t_len - 1, -1, -1) if reverse else range(t_len)):
            h_new = np.zeros(h, dtype=x.dtype)
            c_new = np.zeros(h, dtype=x.dtype)
            for j in range(h):
                z = [b_ih[k * h + j] + b_hh[k * h + j]
                     + sum(w_ih[k * h + j, c] * x[n, c, t] for c in range(c_in))
                     + sum(w_hh[k * h + j, u] * h_prev[u] for u in range(h)) for k in range(4)]
                i, f, g, o = sigmoid(z[0]), sigmoid(z[1]), np.tanh(z[2]), sigmoid(z[3])
                c_new[j] = f * c_prev[j] + i * g
                h_new[j] = o * np.tanh(c_new[j])
            y[n, :, t] = h_new
            h_prev, c_prev = h_new, c_new
    return y
