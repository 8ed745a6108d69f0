"""The paper's models, built from the engine's layers. Each maps features (160, T) to one
prediction per frame (1, T) and reports its parameter count and receptive field.

- ``single``: one conv filter of length L over the input → tanh → linear regression (Fig. 1).
- ``dilated``: ``depth`` conv layers of ``width`` channels, kernel ``kernel_size``, dilation
  ``dilation_base**n`` at layer n, non-causal 'same' padding, ReLU; then a 1×1 conv.
- ``downup``: ``depth`` × (conv → ReLU → max-pool by ``pool``), one intermediate conv,
  ``depth`` × (transposed conv, stride ``pool`` → ReLU), then a 1×1 conv. Any input length:
  padded with zeros to a multiple of pool**depth inside, the output cropped back to T.
- ``blstm``: the paper's reference model: ``num_layers`` bidirectional LSTM layers of
  ``hidden_size`` units per direction (``nn.LSTM``), then a linear output layer per frame (a 1×1
  conv over the 2·hidden_size channels). Its receptive field is the whole sequence.

Settings beyond the paper's (its defaults unchanged): the conv nets' hidden ``activation``
(relu | tanh), ``init`` (he | xavier), ``dropout`` after every hidden activation (element- or
channel-wise),
per-layer ``kernel_size`` lists, the transposed convs' ``up_kernel_size`` (≥ ``pool``), and
``input_average``: a fixed moving average of the input over that many seconds ahead of any
architecture (``tinyemo.ops.moving_average1d``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from . import functional as F
from . import nn
from .data.grid import FRAME_S
from .ops.dropout import DROPOUT_MODES
from .settings import SettingError, at_least, check_fields, one_of

__all__ = ["ModelConfig", "build_model", "receptive_field", "context", "Context", "ARCHITECTURES",
           "DEFAULT_WIDTH", "BLSTM", "used_settings"]

ARCHITECTURES = ("single", "dilated", "downup", "blstm")
# The paper's widths for the down/up net (Section 3.3); dilated uses 32 for both targets.
DEFAULT_WIDTH = {("downup", "arousal"): 32, ("downup", "valence"): 128}
# ModelConfig fields each architecture has no use for: setting one is an error, not a no-op.
# (single: ``kernel_size`` is another name for its ``filter_length``.)
_RECURRENT = ("hidden_size", "num_layers")
IGNORED = {"single": ("width", "depth", "dilation_base", "pool", "up_kernel_size") + _RECURRENT,
           "dilated": ("pool", "up_kernel_size", "filter_length") + _RECURRENT,
           "downup": ("dilation_base", "filter_length") + _RECURRENT,
           "blstm": ("kernel_size", "dilation_base", "pool", "up_kernel_size", "filter_length",
                     "activation", "init", "dropout", "dropout_mode")}



def used_settings(model: dict) -> dict:
    """A saved model configuration without the settings its architecture ignores
    (:data:`IGNORED`): what a resume compares (a BLSTM saved when the conv nets' default
    activation was another is the same BLSTM)."""
    return {k: v for k, v in model.items() if k not in IGNORED.get(model.get("arch"), ())}

@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes a model's architecture (saved beside its weights).

    ``kernel_size``: one width for every conv, or a list: dilated, one per layer (``depth``);
    downup, one per down-sampling level (``depth``; the intermediate conv takes the last) or
    ``depth + 1`` (the last for the intermediate conv). ``up_kernel_size`` defaults to
    ``pool`` (non-overlapping up-sampling filters); wider overlaps them. ``activation``
    defaults to tanh, chosen on the sweeps' evidence (docs/RESULTS.md, "Model selection");
    folders saved before the setting existed read as relu (single: tanh), what they ran.
    ``input_average``: seconds of a centred moving average of the input (0: none).
    """

    arch: str = "downup"
    in_channels: int = 160
    width: int = 32
    kernel_size: int | tuple[int, ...] = 3   # dilated: 2 (the paper); downup: 3; single: filter_length
    depth: int = 4                # dilated: 10; downup: 4
    dilation_base: int = 2
    pool: int = 3
    up_kernel_size: int | None = None
    filter_length: int = 512      # single only: L frames
    activation: str = "tanh"      # docs/RESULTS.md, "Model selection": ReLU nets died
    init: str = "he"
    dropout: float = 0.0
    dropout_mode: str = "element"
    input_average: float = 0.0
    hidden_size: int = 16         # blstm only: units per direction (--width; docs/RESULTS.md)
    num_layers: int = 2           # blstm only: stacked bidirectional layers (--depth sets it)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        check_fields(self, arch=one_of(*ARCHITECTURES), in_channels=at_least(1),
                     width=at_least(1), kernel_size=_kernel_sizes_rule, depth=at_least(1),
                     dilation_base=at_least(1), pool=at_least(1), up_kernel_size=at_least(1),
                     filter_length=at_least(1), hidden_size=at_least(1), num_layers=at_least(1),
                     activation=one_of(*nn.ACTIVATIONS),
                     init=one_of(*nn.INITS), dropout=_probability_rule,
                     dropout_mode=one_of(*DROPOUT_MODES), input_average=at_least(0))
        if isinstance(self.kernel_size, (list, tuple)):
            allowed = {"dilated": (self.depth,), "downup": (self.depth, self.depth + 1)}
            if len(self.kernel_size) not in allowed.get(self.arch, ()):
                raise SettingError(
                    "kernel_size", f"a list needs the dilated (one per layer: {self.depth}) or "
                    f"downup (one per level: {self.depth}, or {self.depth + 1} with the "
                    f"intermediate conv) architecture; got {len(self.kernel_size)} for "
                    f"{self.arch}")
            set_("kernel_size", tuple(int(k) for k in self.kernel_size))
        if self.up_kernel_size is None:
            set_("up_kernel_size", self.pool)
        if self.arch == "downup" and self.up_kernel_size < self.pool:
            raise SettingError("up_kernel_size", f"must be >= {self.pool}, the up-sampling "
                               f"stride (pool), got {self.up_kernel_size}: a narrower filter "
                               f"leaves output frames that no input reaches")

    @classmethod
    def for_arch(cls, arch: str, target: str = "arousal", **overrides) -> "ModelConfig":
        """The paper's defaults for ``arch`` (and ``target``'s width), then ``overrides``.
        An override of a field that ``arch`` does not use (:data:`IGNORED`) is an error. For
        ``blstm`` the generic ``width`` and ``depth`` (``--width``, ``--depth``) set
        ``hidden_size`` and ``num_layers``."""
        if arch not in ARCHITECTURES:
            raise SettingError("arch", f"unknown architecture {arch!r}: expected one of "
                               f"{', '.join(ARCHITECTURES)}")
        known = {f.name for f in dataclasses.fields(cls)} - {"arch"}
        for name, value in overrides.items():
            if name not in known:
                raise SettingError(name, f"not a model setting (known: {', '.join(sorted(known))})")
            if value is not None and name in IGNORED.get(arch, ()):
                raise SettingError(name, f"the {arch} architecture does not use it")
        if arch == "blstm":
            given = {k: v for k, v in overrides.items() if v is not None}
            for generic, own in (("width", "hidden_size"), ("depth", "num_layers")):
                if generic in given:
                    if own in given and given[own] != given[generic]:
                        raise SettingError(generic, f"the blstm architecture's {generic} is its "
                                           f"{own}: give one of them")
                    given[own] = given.pop(generic)
            return cls(arch=arch, **given)
        base = {"single": dict(width=1, kernel_size=512, depth=1),
                "dilated": dict(width=32, kernel_size=2, depth=10),
                "downup": dict(width=DEFAULT_WIDTH[("downup", target)] if target in
                               ("arousal", "valence") else 32, kernel_size=3, depth=4)}[arch]
        base.update({k: v for k, v in overrides.items() if v is not None})
        if arch == "single":
            if isinstance(base["kernel_size"], (list, tuple)):
                raise SettingError("kernel_size", "a list needs the dilated or downup "
                                   "architecture (single has one filter)")
            if None not in (overrides.get("kernel_size"), overrides.get("filter_length")) and \
                    overrides["kernel_size"] != overrides["filter_length"]:
                raise SettingError("kernel_size", "the single architecture's kernel is its "
                                   "filter length: give the filter length only")
            base["filter_length"] = base.pop("filter_length", base["kernel_size"])
            base["kernel_size"] = base["filter_length"]
        return cls(arch=arch, **base)

    def kernel_sizes(self, n: int) -> tuple[int, ...]:
        """The kernel width of each of ``n`` convs in order (a list's last entry repeats)."""
        sizes = self.kernel_size if isinstance(self.kernel_size, tuple) else (self.kernel_size,)
        return tuple(sizes[min(i, len(sizes) - 1)] for i in range(n))

    @property
    def average_frames(self) -> int:
        """The input moving average's window in frames (0: none)."""
        return max(1, round(self.input_average / FRAME_S)) if self.input_average > 0 else 0

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (a kernel list as a list, as JSON reads it back)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}


def _kernel_sizes_rule(value) -> str | None:
    sizes = value if isinstance(value, (list, tuple)) else (value,)
    return None if sizes and all(k >= 1 for k in sizes) else f"must be >= 1, got {value!r}"


def _probability_rule(value) -> str | None:
    return None if 0 <= value < 1 else f"must be in [0, 1), got {value!r}"


def _hidden(cfg: ModelConfig, rng: np.random.Generator) -> list[nn.Module]:
    """The activation after a hidden layer, and its dropout when there is one."""
    layers = [nn.activation(cfg.activation)]
    if cfg.dropout > 0:
        layers.append(nn.Dropout(cfg.dropout, cfg.dropout_mode, rng=rng))
    return layers


class DownUp(nn.Module):
    """The down-sampling/up-sampling net; see the module docstring."""

    def __init__(self, cfg: ModelConfig, rng: np.random.Generator, dtype, noise):
        w, p = cfg.width, cfg.pool
        kernels = cfg.kernel_sizes(cfg.depth + 1)
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for level in range(cfg.depth):
            layers += [nn.Conv1d(c_in, w, kernels[level], padding="same", rng=rng, dtype=dtype,
                                 init=cfg.init), *_hidden(cfg, noise), nn.MaxPool1d(p)]
            c_in = w
        layers += [nn.Conv1d(w, w, kernels[cfg.depth], padding="same", rng=rng, dtype=dtype,
                             init=cfg.init), *_hidden(cfg, noise)]
        extra = cfg.up_kernel_size - p           # frames a wider up-filter adds per level
        for _ in range(cfg.depth):
            layers += [nn.ConvTranspose1d(w, w, cfg.up_kernel_size, stride=p, rng=rng,
                                          dtype=dtype, init=cfg.init)]
            if extra:
                layers += [nn.Pad1d(-(extra // 2), -(extra - extra // 2))]
            layers += _hidden(cfg, noise)
        layers += [nn.Conv1d(w, 1, 1, rng=rng, dtype=dtype, init="zeros")]
        self.net = nn.Sequential(*layers)
        self.multiple = p ** cfg.depth

    def forward(self, x):
        t = x.shape[-1]  # Tensor.shape is a tuple
        padded = math.ceil(t / self.multiple) * self.multiple
        if padded == t:
            return self.net(x)
        return F.pad1d(self.net(F.pad1d(x, 0, padded - t)), 0, t - padded)


class Averaged(nn.Module):
    """``model`` behind a fixed moving average of its input (``ModelConfig.input_average``);
    the average sees the recording itself, before any padding the model adds inside."""

    def __init__(self, window: int, model: nn.Module):
        self.average = nn.MovingAverage1d(window)
        self.model = model

    def forward(self, x):
        return self.model(self.average(x))


class BLSTM(nn.Module):
    """Bidirectional LSTM layers, then a linear output per frame; see the module docstring."""

    def __init__(self, cfg: ModelConfig, rng: np.random.Generator, dtype):
        self.lstm = nn.LSTM(cfg.in_channels, cfg.hidden_size, cfg.num_layers, bidirectional=True,
                            rng=rng, dtype=dtype)
        self.out = nn.Conv1d(2 * cfg.hidden_size, 1, 1, rng=rng, dtype=dtype, init="zeros")

    def forward(self, x):
        return self.out(self.lstm(x))


def build_model(cfg: ModelConfig, seed: int = 0, dtype=np.float32) -> nn.Module:
    """A freshly initialised model for ``cfg``; the weights are a function of ``seed``.
    Hidden layers start He- or Xavier-uniform (``cfg.init``; the LSTM as PyTorch's), the
    output regression at zero (see ``tinyemo.nn``). Dropout draws from its own generator
    (seeded from ``seed`` too, so turning dropout on leaves the initial weights unchanged);
    training reseeds it per step. ``input_average`` puts the moving average ahead of any
    architecture."""
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng([seed, 1])
    if cfg.arch == "blstm":
        model: nn.Module = BLSTM(cfg, rng, dtype)
    elif cfg.arch == "single":
        model = nn.Sequential(
            nn.Conv1d(cfg.in_channels, 1, cfg.filter_length, padding="same", rng=rng,
                      dtype=dtype, init=cfg.init),
            *_hidden(cfg, noise), nn.Conv1d(1, 1, 1, rng=rng, dtype=dtype, init="zeros"))
    elif cfg.arch == "dilated":
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for n, k in enumerate(cfg.kernel_sizes(cfg.depth)):
            layers += [nn.Conv1d(c_in, cfg.width, k, padding="same",
                                 dilation=cfg.dilation_base ** n, rng=rng, dtype=dtype,
                                 init=cfg.init), *_hidden(cfg, noise)]
            c_in = cfg.width
        layers += [nn.Conv1d(cfg.width, 1, 1, rng=rng, dtype=dtype, init="zeros")]
        model = nn.Sequential(*layers)
    else:
        model = DownUp(cfg, rng, dtype, noise)
    return Averaged(cfg.average_frames, model) if cfg.average_frames else model


def receptive_field(model: nn.Module) -> float:
    """Input frames that can influence one output frame (walking the layers in order);
    ``math.inf`` for the BLSTM, whose every output frame depends on the whole sequence."""
    if any(isinstance(m, BLSTM) for m in model.modules()):
        return math.inf
    rf, jump = 1.0, 1.0
    for layer in model.modules():
        if isinstance(layer, nn.Conv1d):
            rf += (layer.weight.shape[2] - 1) * layer.dilation * jump
        elif isinstance(layer, nn.MaxPool1d):
            rf += (layer.kernel_size - 1) * jump
            jump *= layer.stride or layer.kernel_size
        elif isinstance(layer, nn.ConvTranspose1d):
            rf += (math.ceil(layer.weight.shape[2] / layer.stride) - 1) * jump
            jump /= layer.stride
        elif isinstance(layer, nn.MovingAverage1d):
            rf += layer.window - 1
    return int(round(rf))


@dataclass(frozen=True)
class Context:
    """Which input frames an output frame can depend on: output ``t`` reads at most frames
    ``t - left … t + right``, and the net treats frames alike only ``grid`` frames apart (the
    down/up net's pooling grid: pool**depth; 1 for the others). A window of frames that starts
    on a multiple of ``grid`` gives every output whose frames lie inside it exactly as the whole
    sequence does. ``right`` is the latency of streaming prediction, in frames. A recurrent
    net's context is unbounded (``math.inf``)."""

    left: int
    right: int
    grid: int = 1


def _interval_back(layer: nn.Module, lo: int, hi: int) -> tuple[int, int, int]:
    """(lo', hi', s): the input frames ``layer`` reads for its output frames lo … hi, and its
    down-sampling factor s (1 for none, −s for an up-sampling layer). Unknown layers are an
    error naming them."""
    if isinstance(layer, nn.Conv1d):
        from .ops.conv1d import resolve_padding
        k, d = layer.weight.shape[2], layer.dilation
        left, _ = resolve_padding(layer.padding, k, d, layer.stride)
        return lo * layer.stride - left, hi * layer.stride - left + d * (k - 1), layer.stride
    if isinstance(layer, nn.MaxPool1d):
        s = layer.stride or layer.kernel_size
        return lo * s, hi * s + layer.kernel_size - 1, s
    if isinstance(layer, nn.ConvTranspose1d):
        k, s = layer.weight.shape[2], layer.stride
        # out[t] sums in[i] for s·i <= t <= s·i + k − 1 (at least in[t // s], conservatively)
        return min(math.ceil((lo - k + 1) / s), lo // s), hi // s, -s
    if isinstance(layer, nn.Pad1d):
        return lo - layer.left, hi - layer.left, 1
    if isinstance(layer, (nn.ReLU, nn.Tanh, nn.Dropout)):   # dropout: the identity in eval
        return lo, hi, 1
    if isinstance(layer, nn.MovingAverage1d):
        from .ops.moving_average1d import window_sides
        left, right = window_sides(layer.window)
        return lo - left, hi + right, 1
    if isinstance(layer, nn.LSTM):   # its state carries every earlier (and later) frame
        return -math.inf, math.inf if layer.bidirectional else hi, 1
    raise ValueError(f"context: no rule for layer {type(layer).__name__}")


def _stages(module: nn.Module) -> list[nn.Module] | None:
    """The modules a composite model applies in order; None for a single layer."""
    if isinstance(module, DownUp):
        return [module.net]
    if isinstance(module, nn.Sequential):
        return module.layers
    if isinstance(module, BLSTM):
        return [module.lstm, module.out]
    if isinstance(module, Averaged):
        return [module.average, module.model]
    return None


def _walk_back(module: nn.Module, lo: int, hi: int) -> tuple[int, int]:
    """The input frames ``module`` reads for its output frames lo … hi."""
    stages = _stages(module)
    if stages is None:
        lo, hi, _ = _interval_back(module, lo, hi)
        return lo, hi
    for stage in reversed(stages):
        lo, hi = _walk_back(stage, lo, hi)
    return lo, hi


def _grid(module: nn.Module) -> int:
    """The product of the down-sampling factors on the way through ``module``."""
    stages = _stages(module)
    if stages is None:
        return max(_interval_back(module, 0, 0)[2], 1)
    return math.prod(_grid(stage) for stage in stages)


def context(model: nn.Module) -> Context:
    """The model's left and right context and pooling grid (see :class:`Context`), from its
    layers: every phase of the pooling grid is walked back to the input."""
    grid = _grid(model)
    left = right = 0
    base = 1000 * grid   # any position far from the edges: context is periodic with the grid
    for t in range(base, base + grid):
        lo, hi = _walk_back(model, t, t)
        left, right = max(left, t - lo), max(right, hi - t)
    return Context(left, right, grid)
