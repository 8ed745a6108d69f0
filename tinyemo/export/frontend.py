"""tinyemo's front end as ONNX nodes: waveform (N,) → model input (1, C, T), the same steps
and the same float32/float64 arithmetic as ``frontend.fbank`` (Kaldi ``compute-fbank-feats``),
per-recording z-normalisation (``speaker_statistics``), ``stack_frames`` and
``align_to_labels`` with ``frames_for_duration`` rows — what ``tinyemo predict`` computes for
one file, without dither (no ONNX runtime can draw NumPy's dither noise).

The power spectrum is a MatMul with the real DFT matrix of the FFT bins the mel banks use,
so every runtime can run it (no DFT op needed).
"""
from __future__ import annotations

import numpy as np

from tinyemo.data.grid import FRAME_EPS, FRAME_S
from tinyemo.export.graph import Graph
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.audio import INT16_SCALE
from tinyemo.frontend.features import MIN_STD
from tinyemo.frontend.filterbank import FLOAT_EPSILON, feature_window, frame_geometry
from tinyemo.frontend.mel import mel_banks

__all__ = ["frontend_graph", "nan_of_waveform", "rows_of_waveform"]

F32, F64, I64 = np.float32, np.float64, np.int64


def frontend_graph(g: Graph, wave: str, sample_rate: int, opts: FbankOptions,
                   stack: int) -> str:
    """Nodes from ``wave`` (N,) float32 at full scale ±1 to the model input (1, C, T)."""
    size, shift, padded = frame_geometry(sample_rate, opts)
    # shorter than one frame: computed on the wave zero-padded to one frame, and every output
    # then cut to no rows (rows_of_waveform); one frame or longer: no padding, nothing changes
    short = g.op("Max", g.op("Sub", g.i64(size), g.op("Shape", wave)), g.i64(0))
    wave = g.op("Pad", wave, g.op("Concat", g.i64(0), short, axis=0))
    x = g.op("Mul", wave, g.scalar(INT16_SCALE, F32))             # int16 scale, exactly
    n = g.op("Shape", x)                                           # (1,) int64
    frames, n_frames = _frames(g, x, n, size, shift, opts.snip_edges)
    feats = _fbank(g, frames, sample_rate, size, padded, opts)     # (n_frames, D)
    normed = _normalise(g, feats)
    rows = _stack_align(g, normed, n, n_frames, sample_rate, stack, feats_dims(opts))
    return g.op("Unsqueeze", g.op("Transpose", rows, perm=[1, 0]), g.i64(0))


def nan_of_waveform(g: Graph, wave: str) -> str:
    """(1,) float32: 0 when every sample of ``wave`` is finite, else NaN (Σ (x − x)). Added to
    every output: tinyemo predict refuses such audio, a graph cannot refuse, and the floors of
    the front end and zero-padded convolutions would otherwise turn NaN into numbers."""
    return g.op("ReduceSum", g.op("Sub", wave, wave), keepdims=1)


def rows_of_waveform(g: Graph, wave: str, size: int) -> str:
    """(1,) int64: the rows every output keeps, all of them (INT64_MAX as a Slice end) when
    ``wave`` holds at least ``size`` samples (one frame), else none: tinyemo predict refuses
    such audio, a graph cannot refuse, and zero rows are what no whole frame gives."""
    enough = g.op("GreaterOrEqual", g.op("Shape", wave), g.i64(size))
    return g.op("Where", enough, g.i64(np.iinfo(I64).max), g.i64(0))


def feats_dims(opts: FbankOptions) -> int:
    return opts.num_mel_bins + (1 if opts.use_energy else 0)


def _frames(g, x, n, size, shift, snip_edges):
    """(n_frames, size) float32 frames and (1,) int64 n_frames, Kaldi's framing."""
    if snip_edges:    # frames fully inside: 1 + (N − size) // shift
        n_frames = g.op("Add", g.op("Div", g.op("Sub", n, g.i64(size)), g.i64(shift)), g.i64(1))
        first = 0
    else:             # centred frames: (N + shift // 2) // shift, edges reflected
        n_frames = g.op("Div", g.op("Add", n, g.i64(shift // 2)), g.i64(shift))
        first = shift // 2 - size // 2
    limit = g.op("Add", g.op("Squeeze", g.op("Mul", n_frames, g.i64(shift))), g.scalar(first, I64))
    starts = g.op("Range", g.scalar(first, I64), limit, g.scalar(shift, I64))   # (n_frames,)
    idx = g.op("Add", g.op("Unsqueeze", starts, g.i64(1)),
               g.const(np.arange(size, dtype=I64)[None, :], hint="offsets"))
    if not snip_edges:   # sample −1 is sample 0, sample N is sample N − 1
        idx = g.op("Where", g.op("Less", idx, g.scalar(0, I64)),
                   g.op("Sub", g.scalar(-1, I64), idx), idx)
        last = g.op("Sub", g.op("Mul", n, g.i64(2)), g.i64(1))
        idx = g.op("Where", g.op("Less", idx, n), idx, g.op("Sub", last, idx))
    return g.op("Gather", x, idx, axis=0), n_frames


def _fbank(g, frames, sample_rate, size, padded, opts):
    """Kaldi's ProcessWindow and FbankComputer::Compute on (n_frames, size) frames."""
    x = frames
    if opts.remove_dc_offset:   # the mean in float64, rounded to float32, as fbank does
        mean = g.op("ReduceMean", g.op("Cast", x, to=_onnx_type(F64)), g.i64(1), keepdims=1)
        x = g.op("Sub", x, g.op("Cast", mean, to=_onnx_type(F32)))
    energy = _log_energy(g, x) if opts.use_energy and opts.raw_energy else None
    coeff = F32(opts.preemphasis_coefficient)
    if coeff != 0.0:   # Kaldi: the sample before the frame is the frame's first sample
        head = g.op("Slice", x, g.i64(0), g.i64(1), g.i64(1))
        rest = g.op("Sub", g.op("Slice", x, g.i64(1), g.i64(size), g.i64(1)),
                    g.op("Mul", g.op("Slice", x, g.i64(0), g.i64(size - 1), g.i64(1)),
                         g.scalar(coeff, F32)))
        x = g.op("Concat", g.op("Mul", head, g.scalar(F32(1.0) - coeff, F32)), rest, axis=1)
    x = g.op("Mul", x, g.const(feature_window(opts.window_type, size, opts.blackman_coeff),
                               hint="window"))
    if opts.use_energy and not opts.raw_energy:
        energy = _log_energy(g, x)
    weights = mel_banks(opts.num_mel_bins, padded, sample_rate, opts.low_freq, opts.high_freq)
    used = np.flatnonzero(weights.any(axis=1))
    lo, hi = int(used[0]), int(used[-1]) + 1
    k = np.arange(lo, hi, dtype=F64)
    angle = 2.0 * np.pi * np.outer(np.arange(size, dtype=F64), k) / padded   # (size, bins)
    dft = np.concatenate([np.cos(angle), -np.sin(angle)], axis=1).astype(F32)
    spec = g.op("MatMul", x, g.const(dft, hint="dft"))             # (n, 2 · bins)
    re = g.op("Slice", spec, g.i64(0), g.i64(hi - lo), g.i64(1))
    im = g.op("Slice", spec, g.i64(hi - lo), g.i64(2 * (hi - lo)), g.i64(1))
    power = g.op("Add", g.op("Mul", re, re), g.op("Mul", im, im))
    if not opts.use_power:
        power = g.op("Sqrt", power)
    mel = g.op("MatMul", power, g.const(np.ascontiguousarray(weights[lo:hi]), hint="mel"))
    if opts.use_log_fbank:
        mel = g.op("Log", g.op("Max", mel, g.scalar(FLOAT_EPSILON, F32)))
    if not opts.use_energy:
        return mel
    if opts.energy_floor > 0.0:
        energy = g.op("Max", energy, g.scalar(np.log(opts.energy_floor), F32))
    energy = g.op("Unsqueeze", energy, g.i64(1))
    return g.op("Concat", *((mel, energy) if opts.htk_compat else (energy, mel)), axis=1)


def _log_energy(g, x):
    """(n,) float32: log of each frame's energy summed in float64, floored like Kaldi."""
    x64 = g.op("Cast", x, to=_onnx_type(F64))
    energy = g.op("ReduceSum", g.op("Mul", x64, x64), g.i64(1), keepdims=0)
    energy = g.op("Log", g.op("Max", energy, g.scalar(FLOAT_EPSILON, F64)))
    return g.op("Cast", energy, to=_onnx_type(F32))


def _normalise(g, feats):
    """Per-recording z-normalisation in float64: (x − mean) / std, population std, std below
    MIN_STD replaced by 1 — ``speaker_statistics`` with the recording as its own speaker."""
    x = g.op("Cast", feats, to=_onnx_type(F64))
    d = g.op("Sub", x, g.op("ReduceMean", x, g.i64(0), keepdims=1))
    std = g.op("Sqrt", g.op("ReduceMean", g.op("Mul", d, d), g.i64(0), keepdims=1))
    std = g.op("Where", g.op("Less", std, g.scalar(MIN_STD, F64)), g.scalar(1.0, F64), std)
    return g.op("Cast", g.op("Div", d, std), to=_onnx_type(F32))


def _stack_align(g, normed, n, n_frames, sample_rate, stack, dims):
    """(rows, stack · D): row j holds frames stack·r … stack·r + stack − 1 with r = min(j,
    last row), frames past the end repeating the last frame; rows = frames_for_duration(N /
    rate), computed in float64 exactly as Python does."""
    seconds = g.op("Div", g.op("Cast", n, to=_onnx_type(F64)), g.scalar(float(sample_rate), F64))
    grid = g.op("Floor", g.op("Add", g.op("Div", seconds, g.scalar(FRAME_S, F64)),
                              g.scalar(FRAME_EPS, F64)))
    n_rows = g.op("Add", g.op("Cast", grid, to=_onnx_type(I64)), g.i64(1))
    last_row = g.op("Sub", g.op("Div", g.op("Add", n_frames, g.i64(stack - 1)), g.i64(stack)),
                    g.i64(1))
    rows = g.op("Min", g.op("Range", g.scalar(0, I64), g.op("Squeeze", n_rows),
                            g.scalar(1, I64)), last_row)
    idx = g.op("Add", g.op("Unsqueeze", g.op("Mul", rows, g.i64(stack)), g.i64(1)),
               g.const(np.arange(stack, dtype=I64)[None, :], hint="stack"))
    idx = g.op("Min", idx, g.op("Sub", n_frames, g.i64(1)))
    return g.op("Reshape", g.op("Gather", normed, idx, axis=0), g.i64(-1, stack * dims))


def _onnx_type(dtype) -> int:
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
