"""Per-element mathematics, written once for every target.

Plain Python functions of scalars (the window scan: of an array and indices). Each target builds
them for its compiler and its kernels call them by the same names:

- ``kernels/cpu/formulas.py``: callable from ``@njit`` code and compiled inline into the caller;
- ``kernels/cuda/formulas.py``: ``cuda.jit(device=True)`` functions.

So a CPU kernel and its CUDA twin compute the same expression in the same order, and a new
element-wise op is one formula here plus one line in ``kernels/elementwise.py``.

Rules for a formula: scalars and array elements only (no allocation, no NumPy: ``math`` works
on both targets); it may call other formulas of this module; it returns a scalar or a tuple.
"""
from __future__ import annotations

import math

__all__ = ["relu", "relu_grad", "tanh", "tanh_grad", "axpby", "mul", "constant",
           "adam_constants", "adam", "ccc_centred_products", "ccc_store", "ccc_grad_coefficients",
           "ccc_grad", "ccc_swap_source", "window_argmax", "window_takes", "pad_bounds", "sigmoid", "tanh_fast",
           "sigmoid_fast", "lstm_cell", "lstm_cell_grad", "dropout", "box_bounds"]


# -- activations ------------------------------------------------------------------------------
def relu(x):
    """max(x, 0)."""
    return x if x > 0 else 0


def relu_grad(y, gy):
    """gy where the output y is positive, else 0 (the subgradient 0 at x = 0)."""
    return gy if y > 0 else 0


def tanh(x):
    return math.tanh(x)


def tanh_grad(y, gy):
    """gy · (1 − y²), from the saved output y = tanh(x)."""
    return gy * (1 - y * y)


def sigmoid(x):
    """1 / (1 + e^−x) with one exponential that never overflows: e = e^−|x| ≤ 1, σ = 1/(1 + e)
    for x ≥ 0 and e/(1 + e) for x < 0 (accurate in the tails, unlike 1 − σ(−x))."""
    e = math.exp(-abs(x))
    r = 1 / (1 + e)
    return r if x >= 0 else e * r


# -- arithmetic -------------------------------------------------------------------------------
def axpby(a, b, alpha, beta):
    """alpha·a + beta·b."""
    return alpha * a + beta * b


def mul(a, b):
    return a * b


def constant(_x, value):
    """``value`` whatever the element (a fill is a map of this)."""
    return value


# -- dropout ----------------------------------------------------------------------------------
def dropout(x, u, p, scale):
    """x·scale where the uniform draw u ≥ p, else 0 (scale = 1 / (1 − p)). Linear in x, so the
    same formula applied to the upstream gradient, with the same draws, is the backward."""
    return x * scale if u >= p else 0


# -- Adam -------------------------------------------------------------------------------------
def adam_constants(lr, beta1, beta2, eps, weight_decay, step):
    """The step's constants, hoisted out of the per-element loop (computed once per step, in
    float64; kernels cast them to the parameters' dtype and compute in it):
    (β1, 1 − β1, β2, 1 − β2, weight decay, lr / (1 − β1^t), 1 / √(1 − β2^t), eps)."""
    return (beta1, 1.0 - beta1, beta2, 1.0 - beta2, weight_decay, lr / (1.0 - beta1 ** step),
            1.0 / math.sqrt(1.0 - beta2 ** step), eps)


def adam(p, g, m, v, b1, one_m_b1, b2, one_m_b2, wd, step_size, inv_sqrt_bias2, eps):
    """(p, m, v) after one Adam step with classic L2 (weight decay added to the gradient before
    the moments, as ``torch.optim.Adam(weight_decay=…)``); constants from ``adam_constants``.
    One division per element instead of three: lr·m̂/(√v̂ + ε) = step_size·m/(√v/√(1−β2^t) + ε)."""
    gi = g + wd * p
    mi = b1 * m + one_m_b1 * gi
    vi = b2 * v + one_m_b2 * gi * gi
    return p - step_size * mi / (math.sqrt(vi) * inv_sqrt_bias2 + eps), mi, vi


# -- CCC --------------------------------------------------------------------------------------
# Moments [μ_x, μ_y, s_x², s_y², s_xy] (population, divide by T); x the prediction, y the target.
def ccc_centred_products(x, y, mx, my):
    """((x − μ_x)², (y − μ_y)², (x − μ_x)(y − μ_y)): one frame's terms of the three second
    moments."""
    dx = x - mx
    dy = y - my
    return dx * dx, dy * dy, dx * dy


def ccc_store(stats, out, mx, my, vx, vy, cxy):
    """stats[0:5] ← the moments (the layout every CCC kernel shares), out[0] ← the CCC:
    2·s_xy / (s_x² + s_y² + (μ_x − μ_y)²), 1 when the denominator is 0 (equal constants)."""
    stats[0] = mx
    stats[1] = my
    stats[2] = vx
    stats[3] = vy
    stats[4] = cxy
    den = vx + vy + (mx - my) ** 2
    out[0] = 1.0 if den == 0.0 else 2.0 * cxy / den


def ccc_grad_coefficients(t, mx, my, vx, vy, cxy, g):
    """(a, b) such that g·∂CCC/∂x_i = a·(y_i − μ_y) − b·((x_i − μ_x) + (μ_x − μ_y)) for T = t
    frames and upstream gradient g; (0, 0) in the degenerate case (CCC ≡ 1 there).

    From ∂s_xy/∂x_i = (y_i − μ_y)/T and ∂den/∂x_i = 2(x_i − μ_x)/T + 2(μ_x − μ_y)/T."""
    den = vx + vy + (mx - my) ** 2
    if den == 0.0:
        return 0.0, 0.0
    return 2.0 * g / (t * den), 4.0 * g * cxy / (t * den * den)


def ccc_grad(x, y, mx, my, a, b):
    """One element of g·∂CCC/∂x from the coefficients of ``ccc_grad_coefficients``."""
    return a * (y - my) - b * ((x - mx) + (mx - my))


def ccc_swap_source(i):
    """Where entry i of the swapped moments comes from: prediction and target exchanged,
    [μ_x, μ_y, s_x², s_y², s_xy] → [μ_y, μ_x, s_y², s_x², s_xy]."""
    return i if i == 4 else i + 1 - 2 * (i % 2)


# -- windows and index arithmetic -----------------------------------------------------------
def window_argmax(x, n, c, start, size):
    """(max, where) over x[n, c, start:start + size]; ties go to the first maximum. NaN counts
    as the maximum, as in PyTorch's max_pool1d and NumPy's max/argmax: a window holding one gives
    NaN, and ``where`` is its first NaN (so backward routes the gradient there)."""
    best = x[n, c, start]
    where = start
    for j in range(start + 1, start + size):
        v = x[n, c, j]
        take = window_takes(v, best)
        best = v if take else best
        where = j if take else where
    return best, where


def window_takes(v, best):
    """Whether ``v`` replaces ``best`` in a max-pool window scan: a larger value, or the first
    NaN; once best is NaN nothing does. Branch-free (bitwise | and &; callers select with it):
    branches here mispredict on real data and made the scan 3-5x slower."""
    return (v > best) | ((v != v) & (best == best))


def pad_bounds(left, t_in, t_out):
    """(lo, hi): output frames lo ≤ t < hi copy x[t − left] when x has t_in frames and the
    output t_out; the others are zeros (hi ≤ lo: all zeros)."""
    return max(0, left), min(t_out, t_in + left)


def box_bounds(t, left, right, t_len):
    """(lo, hi): the frames lo ≤ s < hi of the window t − left … t + right that exist in a
    sequence of t_len frames (the moving average's window, shrunk at the edges)."""
    return max(0, t - left), min(t_len, t + right + 1)


# -- LSTM cell --------------------------------------------------------------------------------
# ``fast`` (true for float32 arrays) selects rational approximations of tanh and σ: float32
# accuracy, no exponential, so the CPU's per-unit loops vectorise; float64 keeps the exact
# functions (gradient checks, parity with PyTorch at 1e-12).
_TANH_CLAMP = 7.99881172180175781  # beyond it tanh is ±1 in float32


def tanh_fast(x):
    """tanh as a [13/6] rational function of the clamped x (Eigen's float32 tanh): absolute
    error ≤ 2.2e-7 on the whole line, odd, no exponential."""
    x = min(max(x, -_TANH_CLAMP), _TANH_CLAMP)
    x2 = x * x
    p = x2 * -2.76076847742355e-16 + 2.00018790482477e-13
    p = x2 * p + -8.60467152213735e-11
    p = x2 * p + 5.12229709037114e-08
    p = x2 * p + 1.48572235717979e-05
    p = x2 * p + 6.37261928875436e-04
    p = x2 * p + 4.89352455891786e-03
    q = x2 * 1.19825839466702e-06 + 1.18534705686654e-04
    q = x2 * q + 2.26843463243900e-03
    q = x2 * q + 4.89352518554385e-03
    return x * p / q


def sigmoid_fast(x):
    """σ(x) = (1 + tanh(x/2))/2 with ``tanh_fast``: absolute error ≤ 1.1e-7."""
    return 0.5 + 0.5 * tanh_fast(0.5 * x)


def lstm_cell(zi, zf, zg, zo, c_prev, fast):
    """One unit of an LSTM step from its four gate pre-activations (PyTorch's order i, f, g, o)
    and the previous cell state: (i, f, g, o, c, tanh(c)) with i, f, o = σ(·), g = tanh(zg),
    c = f·c_prev + i·g; the hidden state is o·tanh(c)."""
    if fast:
        i = sigmoid_fast(zi)
        f = sigmoid_fast(zf)
        g = tanh_fast(zg)
        o = sigmoid_fast(zo)
        c = f * c_prev + i * g
        return i, f, g, o, c, tanh_fast(c)
    i = sigmoid(zi)
    f = sigmoid(zf)
    g = math.tanh(zg)
    o = sigmoid(zo)
    c = f * c_prev + i * g
    return i, f, g, o, c, math.tanh(c)


def lstm_cell_grad(i, f, g, o, c, c_prev, gh, gc_next, fast):
    """Backward of one unit of ``lstm_cell`` from its saved gates and cell states, given ∂L/∂h
    (``gh``: the output's gradient plus what the next step sends back) and ∂L/∂c from the next
    step (``gc_next``): (∂L/∂z_i, ∂L/∂z_f, ∂L/∂z_g, ∂L/∂z_o, ∂L/∂c_prev). σ' = σ(1 − σ),
    tanh' = 1 − tanh²."""
    tanh_c = tanh_fast(c) if fast else math.tanh(c)
    gc = gc_next + gh * o * (1 - tanh_c * tanh_c)
    return (gc * g * i * (1 - i), gc * c_prev * f * (1 - f), gc * i * (1 - g * g),
            gh * tanh_c * o * (1 - o), gc * f)
