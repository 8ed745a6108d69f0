"""What a model setting costs before it is built: its parameter count and an estimate of the
memory one training step takes on the longest recording (float32: the weights with their
gradients and Adam's two moments, the activations kept for the backward pass and their
gradients), and how much the down/up net's zero padding multiplies the work. Training checks
these first, so a setting that cannot fit is refused naming its option instead of ending as
"out of memory" after a folder was made."""
from __future__ import annotations

import os

from tinyemo.data.grid import FRAME_S
from tinyemo.models.config import ModelConfig
from tinyemo.util.notices import warn
from tinyemo.util.settings import SettingError

__all__ = ["parameter_count", "training_bytes", "padding_factor", "available_bytes",
           "check_trainable"]

BYTES = 4                     # float32
PER_WEIGHT = 4                # the weight, its gradient, Adam's m and v
PER_ACTIVATION = 2            # an output (kept for backward) and its gradient: the measured peak
                              # memory of one step was 0.5–1.1× the estimate (T = 30000 frames)
PADDING_WARNING = 2.0         # warn when the padding more than doubles the frames computed


def parameter_count(cfg: ModelConfig) -> int:
    """The number of weights of the model ``cfg`` builds (``models.nets.build_model``)."""
    w, c = cfg.width, cfg.in_channels
    if cfg.arch == "single":
        return c * cfg.filter_length + 1 + 2
    if cfg.arch == "blstm":
        h, total, inputs = cfg.hidden_size, 2 * cfg.hidden_size + 1, c
        for _ in range(cfg.num_layers):
            total += 2 * (4 * h * (inputs + h) + 8 * h)
            inputs = 2 * h
        return total
    if cfg.arch == "dilated":
        total, inputs = w + 1, c
        for k in cfg.kernel_sizes(cfg.depth):
            total += inputs * w * k + w
            inputs = w
        return total
    kernels = cfg.kernel_sizes(cfg.depth + 1)                      # downup
    total = c * w * kernels[0] + w + w + 1
    total += sum(w * w * k + w for k in kernels[1:cfg.depth + 1])
    return total + cfg.depth * (w * w * cfg.up_kernel_size + w)


def padded_frames(cfg: ModelConfig, frames: int) -> int:
    """The frames the net computes for a recording of ``frames`` rows (down/up pads)."""
    if cfg.arch != "downup":
        return frames
    multiple = cfg.pool ** cfg.depth
    return -(-frames // multiple) * multiple


def padding_factor(cfg: ModelConfig, frames: list[int]) -> float:
    """Frames computed over frames given, summed over the recordings (1: no padding)."""
    return sum(padded_frames(cfg, t) for t in frames) / max(1, sum(frames))


def training_bytes(cfg: ModelConfig, frames: int) -> tuple[int, int]:
    """(weights, activations): estimated bytes of one training step on ``frames`` rows."""
    t = padded_frames(cfg, frames)
    w, c = cfg.width, cfg.in_channels
    values = 2 * c * t                                             # the input (and its padding)
    if cfg.arch == "single":
        values += 2 * t
    elif cfg.arch == "blstm":
        values += cfg.num_layers * 2 * 6 * cfg.hidden_size * t    # gates, cell, output ×2 ways
    elif cfg.arch == "dilated":
        values += 2 * cfg.depth * w * t                            # conv output, activation
    else:                                                          # down/up: each level 1/pool
        levels = sum(cfg.pool ** -level for level in range(cfg.depth + 1))
        values += 2 * 2 * w * t * levels
    return (PER_WEIGHT * BYTES * parameter_count(cfg), PER_ACTIVATION * BYTES * values)


def available_bytes() -> int:
    """Memory available to this process: MemAvailable (Linux), else the physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62                                             # unknown: no limit


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def check_trainable(cfg: ModelConfig, frames: list[int], available: int | None = None,
                    target: str = "") -> None:
    """Before training ``cfg`` on recordings of ``frames`` rows (40 ms each): SettingError
    naming the option when the input average spans every recording (the input would be
    constant) or one step would need more memory than is ``available``; a warning when the
    down/up net's padding more than doubles the work."""
    longest = max(frames)
    if cfg.input_average and cfg.average_frames >= longest:
        raise SettingError("input_average", f"{cfg.input_average:g} s is as long as the longest "
                           f"recording ({(longest - 1) * FRAME_S:g} s): the input would be nearly "
                           "constant; give a shorter average")
    weights, activations = training_bytes(cfg, longest)
    available = available_bytes() if available is None else available
    of = f" ({target})" if target else ""
    if weights + activations > available:
        if cfg.arch == "downup" and padded_frames(cfg, longest) > 2 * longest:
            field, why = "depth", (f"depth {cfg.depth} pads every recording to a multiple of "
                                   f"{cfg.pool}^{cfg.depth} = {cfg.pool ** cfg.depth} frames")
        elif cfg.arch == "single":
            field, why = "filter_length", f"a filter of {cfg.filter_length} frames"
        elif weights > activations and cfg.arch != "blstm" and max(cfg.kernel_sizes(
                cfg.depth + 1)) > max(cfg.width, 8):
            field, why = "kernel_size", f"kernels of {max(cfg.kernel_sizes(cfg.depth + 1))} taps"
        else:
            field, why = "width", f"width {cfg.width}"
        raise SettingError(field, f"{why}: training{of} would need about "
                           f"{_gb(weights + activations)} of memory ({parameter_count(cfg):,} "
                           f"weights, recordings of up to {longest} frames), more than the "
                           f"{_gb(available)} available; give a smaller value")
    factor = padding_factor(cfg, frames)
    if factor > PADDING_WARNING:
        warn(f"down/up depth {cfg.depth}{of} pads every recording to a multiple of "
             f"{cfg.pool}^{cfg.depth} = {cfg.pool ** cfg.depth} frames: {factor:.0f}× the frames "
             f"of the recordings are computed (about that much slower); a smaller --depth pads "
             f"less")
