"""The settings of a model (:class:`ModelConfig`, saved beside its weights): the
architecture, its sizes and the settings beyond the paper's, each checked when the object is
made; which settings each architecture ignores (a resume compares only the others).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tinyemo.data.grid import FRAME_S
from tinyemo.engine import nn
from tinyemo.engine.ops.dropout import DROPOUT_MODES
from tinyemo.util.settings import SettingError, at_least, check_fields, one_of

__all__ = ["ARCHITECTURES", "DEFAULT_WIDTH", "IGNORED", "used_settings", "ModelConfig"]

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
            cls(arch=arch, filter_length=base["filter_length"])   # checked under its own name
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
