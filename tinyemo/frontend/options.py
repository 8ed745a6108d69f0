"""Options of Kaldi's ``compute-fbank-feats``, as one frozen dataclass."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

__all__ = ["FbankOptions", "WINDOW_TYPES"]

WINDOW_TYPES = ("povey", "hamming", "hanning", "rectangular", "blackman", "sine")


@dataclass(frozen=True)
class FbankOptions:
    """Kaldi's fbank flags with dashes turned into underscores (``--num-mel-bins`` →
    ``num_mel_bins``). Defaults are Kaldi's except ``num_mel_bins=40`` (the paper).

    ``frame_length`` and ``frame_shift`` are in milliseconds, frequencies in Hz. A ``high_freq``
    of zero or below is an offset from the Nyquist frequency. ``seed`` is not a Kaldi flag: it
    seeds the dither generator so results are reproducible (``None`` draws fresh entropy).
    """

    num_mel_bins: int = 40
    frame_length: float = 25.0
    frame_shift: float = 10.0
    dither: float = 1.0
    preemphasis_coefficient: float = 0.97
    remove_dc_offset: bool = True
    window_type: str = "povey"
    blackman_coeff: float = 0.42
    round_to_power_of_two: bool = True
    snip_edges: bool = True
    low_freq: float = 20.0
    high_freq: float = 0.0
    use_energy: bool = False
    raw_energy: bool = True
    htk_compat: bool = False
    use_power: bool = True
    use_log_fbank: bool = True
    energy_floor: float = 0.0
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.window_type not in WINDOW_TYPES:
            raise ValueError(
                f"window_type must be one of {', '.join(WINDOW_TYPES)}, got {self.window_type!r}")
        if int(self.num_mel_bins) != self.num_mel_bins or self.num_mel_bins < 3:
            raise ValueError(f"num_mel_bins must be an integer >= 3, got {self.num_mel_bins!r}")
        if not self.frame_length > 0 or not self.frame_shift > 0:
            raise ValueError("frame_length and frame_shift must be positive (milliseconds), got "
                             f"{self.frame_length!r} and {self.frame_shift!r}")
        if not self.dither >= 0:
            raise ValueError(f"dither must be >= 0, got {self.dither!r}")
        if not 0.0 <= self.preemphasis_coefficient <= 1.0:
            raise ValueError("preemphasis_coefficient must be in [0, 1], got "
                             f"{self.preemphasis_coefficient!r}")
        if not self.low_freq >= 0:
            raise ValueError(f"low_freq must be >= 0, got {self.low_freq!r}")

    @classmethod
    def from_kwargs(cls, options: FbankOptions | None = None, **overrides) -> FbankOptions:
        """``options`` (or the defaults) with ``overrides`` applied; unknown names are an error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"unknown fbank option(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(names))}")
        base = options if options is not None else cls()
        return dataclasses.replace(base, **overrides) if overrides else base

    def to_dict(self) -> dict:
        """Every option by name, for cache keys and logs."""
        return dataclasses.asdict(self)
