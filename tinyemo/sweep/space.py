"""A sweep's search space, read from a TOML file.

Each top-level key names one setting: ``arch`` or any field of :class:`~tinyemo.models.
ModelConfig` or :class:`~tinyemo.train.loop.TrainConfig` (read from the dataclasses when the file
is read, so a field added there is searchable here without a change), except ``in_channels``
(set by the data) and ``device`` (``--device``). Its value says how the setting varies::

    lr = 1e-3                                     fixed
    kernel_sizes = { value = [3, 5, 7] }          fixed, a list value (a setting that is a list
                                                  only, such as tuple[int, ...]: also [3, 5, 7])
    width = [8, 16, 32]                           one of these choices (also { choices = [...] })
    depth = { low = 2, high = 6 }                 an integer range, both ends included
    depth = { low = 2, high = 8, step = 2 }       2, 4, 6, 8
    lr = { low = 1e-4, high = 1e-2, log = true }  a float range on a log scale
    patience = { low = 5, high = 20, log = true } an integer range on a log scale

``features = "fbank+lld"`` (``fbank``, ``lld``, ``fbank+lld``; see ``tinyemo train --features``)
chooses the model inputs of the whole sweep: a fixed value only, since every trial trains on
the same prepared examples (one sweep per feature setting compares them).

A range is integer when the setting is an integer (its bounds must then be integers), float
otherwise. Choices are scalars, or lists for list settings (``[[3, 3], [5, 5]]``, or
``[3, [3, 5]]`` for a setting that takes a number or a list).
"""
from __future__ import annotations

import dataclasses
import decimal
import json
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyemo.frontend.descriptors import FEATURES
from tinyemo.models.config import ModelConfig
from tinyemo.train.loop import TrainConfig
from tinyemo.util.notices import warn

__all__ = ["Param", "Space", "read_space", "searchable_settings", "split_settings"]

NOT_SEARCHABLE = {"in_channels": "it is set by the data", "device": "use --device"}
RANGE_KEYS = {"low", "high", "step", "log"}
TABLE_KEYS = RANGE_KEYS | {"choices", "value"}


def searchable_settings() -> dict[str, Any]:
    """Setting name → its type hint, from the fields of ModelConfig and TrainConfig now."""
    hints = {}
    for cls in (ModelConfig, TrainConfig):
        try:
            types_ = typing.get_type_hints(cls)
        except (NameError, TypeError):      # an annotation only a type checker resolves
            types_ = {}
        for f in dataclasses.fields(cls):
            if f.name not in NOT_SEARCHABLE:
                hints.setdefault(f.name, types_.get(f.name, Any))
    return hints


def split_settings(settings: dict) -> tuple[str, dict, dict]:
    """(arch, ModelConfig overrides, TrainConfig overrides) of one trial's ``settings``."""
    model_names = {f.name for f in dataclasses.fields(ModelConfig)}
    train_names = {f.name for f in dataclasses.fields(TrainConfig)}
    arch = settings.get("arch", ModelConfig.arch)
    model = {k: v for k, v in settings.items() if k in model_names and k != "arch"}
    train = {k: v for k, v in settings.items() if k in train_names}
    return arch, model, train


def _fits(value, hint) -> bool:
    """Whether a TOML value can be given to a field annotated ``hint`` (unknown hints: yes)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is typing.Literal:
        return value in args
    if origin in (tuple, list):
        if not isinstance(value, list):
            return False
        inner = args[0] if args and (len(args) == 1 or args[-1] is Ellipsis) else None
        if inner is None and args:
            return len(args) == len(value) and all(_fits(v, a) for v, a in zip(value, args))
        return all(_fits(v, inner) for v in value) if inner is not None else True
    return True


def _is_list_hint(hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list_hint(a) for a in args)
    return origin in (tuple, list)


def _describe(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


@dataclass(frozen=True)
class Param:
    """One setting of the space: ``kind`` is fixed, choice, int or float."""

    name: str
    kind: str
    value: Any = None               # fixed
    choices: tuple = ()             # choice
    low: float | int | None = None  # int, float
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    as_list: bool = False           # choices that are lists travel through Optuna as JSON text

    def suggest(self, trial):
        """This setting's value for an Optuna ``trial`` (sampling it unless fixed)."""
        if self.kind == "fixed":
            return self.value
        if self.kind == "choice":
            picked = trial.suggest_categorical(self.name, list(self._encoded()))
            return json.loads(picked) if self.as_list else picked
        if self.kind == "int":
            return trial.suggest_int(self.name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def _encoded(self) -> tuple:
        return tuple(json.dumps(c) for c in self.choices) if self.as_list else self.choices

    def grid(self, path: Path) -> list:
        """Every value a grid search visits (as Optuna sees them)."""
        if self.kind == "choice":
            return list(self._encoded())
        if self.kind == "int":
            if self.log:
                raise ValueError(f"{path}: {self.name}: a grid search needs choices or an even "
                                 f"range; give a list of values instead of log = true")
            return list(range(self.low, self.high + 1, self.step or 1))
        if self.step is None or self.log:
            raise ValueError(f"{path}: {self.name}: a grid search needs choices or a float range "
                             f"with a step (e.g. {{ low = 0.0, high = 0.5, step = 0.1 }})")
        n = int(math.floor((self.high - self.low) / self.step + 1e-9))
        return [round(self.low + i * self.step, 12) for i in range(n + 1)]

    def grid_size(self) -> int:
        """How many values :meth:`grid` lists, counted without listing them."""
        if self.kind == "choice":
            return len(self.choices)
        if self.kind == "int":
            return (self.high - self.low) // (self.step or 1) + 1
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1 if self.step else 0

    def to_dict(self) -> dict:
        if self.kind == "fixed":
            return {"value": self.value}
        if self.kind == "choice":
            return {"choices": list(self.choices)}
        out = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


@dataclass(frozen=True)
class Space:
    """The settings of a sweep, in the file's order; ``path`` is where they were read."""

    params: tuple[Param, ...]
    path: str = "<space>"

    def suggest(self, trial) -> dict:
        """Every setting's value for ``trial``: the fixed ones and those Optuna samples."""
        return {p.name: p.suggest(trial) for p in self.params}

    def grid(self) -> dict[str, list]:
        """Optuna's GridSampler search space (the settings that vary)."""
        return {p.name: p.grid(Path(self.path)) for p in self.params if p.kind != "fixed"}

    def grid_size(self) -> int:
        """The number of points of :meth:`grid`, counted without listing them."""
        return math.prod(p.grid_size() for p in self.params if p.kind != "fixed")

    @property
    def varying(self) -> list[str]:
        return [p.name for p in self.params if p.kind != "fixed"]

    def fixed(self) -> dict:
        return {p.name: p.value for p in self.params if p.kind == "fixed"}

    def values_of(self, name: str) -> list:
        """The values ``name`` can take (ranges: their two ends), [] when absent."""
        for p in self.params:
            if p.name == name:
                return ([p.value] if p.kind == "fixed" else list(p.choices) if p.kind == "choice"
                        else [p.low, p.high])
        return []

    def to_dict(self) -> dict:
        return {p.name: p.to_dict() for p in self.params}

    def changes(self, saved: dict) -> list[str]:
        """How this space differs from one saved by :meth:`to_dict` (empty when equal)."""
        now = json.loads(json.dumps(self.to_dict()))
        out = []
        for key in list(saved) + [k for k in now if k not in saved]:
            if key not in now:
                out.append(f"{key} removed")
            elif key not in saved:
                out.append(f"{key} added")
            elif saved[key] != now[key]:
                out.append(f"{key}: {_short(saved[key])} -> {_short(now[key])}")
        return out


def _short(entry: dict) -> str:
    return json.dumps(entry["value"] if set(entry) == {"value"} else entry)


def read_space(path: str | Path) -> Space:
    """Read and check the space file at ``path``; ValueError naming the file, the key and
    what is allowed for anything it cannot use."""
    path = Path(path)
    try:
        import tomllib
    except ModuleNotFoundError:          # Python < 3.11
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ValueError("reading a space file needs tomli on Python < 3.11: "
                             "pip install 'tinyemo[sweep]'") from None
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such space file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a space file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the space file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    if not raw:
        raise ValueError(f"{path}: the space is empty; name at least one setting "
                         f"(e.g. lr = {{ low = 1e-4, high = 1e-2, log = true }})")
    hints = searchable_settings()
    params = [_param(path, key, value, hints) for key, value in raw.items()]
    return Space(tuple(params), str(path))


def _param(path: Path, key: str, value, hints: dict) -> Param:
    if key == "features":          # decides the examples, which every trial shares
        value = value.get("value") if isinstance(value, dict) and set(value) == {"value"} \
            else value
        if value not in FEATURES:
            raise ValueError(f"{path}: features: a fixed value of {', '.join(FEATURES)} (one "
                             f"sweep per feature setting: trials share one set of examples), "
                             f"got {value!r}")
        return Param(key, "fixed", value=value)
    if key in NOT_SEARCHABLE:
        raise ValueError(f"{path}: {key!r} cannot be searched ({NOT_SEARCHABLE[key]})")
    if key not in hints:
        raise ValueError(f"{path}: unknown setting {key!r}; allowed: {', '.join(sorted(hints))}")
    hint = hints[key]
    where = f"{path}: {key}"
    as_list = _is_list_hint(hint)

    def check(v, what="value"):
        if not _fits(v, hint):
            raise ValueError(f"{where}: {what} {v!r} is not a {_describe(hint)}")
        return v

    if isinstance(value, list):
        if as_list and value and _fits(value, hint) and not all(_fits(v, hint) for v in value):
            return Param(key, "fixed", value=value)   # a list setting's own value
        return _choices(where, key, value, check, as_list)
    if not isinstance(value, dict):
        return Param(key, "fixed", value=check(value))
    unknown = sorted(set(value) - TABLE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; a setting is a value, a list of "
                         f"choices, {{ value = ... }}, {{ choices = [...] }} or "
                         f"{{ low = ..., high = ..., step = ..., log = true|false }}")
    if "value" in value:
        if len(value) > 1:
            raise ValueError(f"{where}: 'value' fixes the setting; it takes no other fields")
        return Param(key, "fixed", value=check(value["value"]))
    if "choices" in value:
        if len(value) > 1:
            raise ValueError(f"{where}: 'choices' takes no other fields (low/high/step/log are "
                             f"for ranges)")
        if not isinstance(value["choices"], list):
            raise ValueError(f"{where}: choices must be a list, got {value['choices']!r}")
        return _choices(where, key, value["choices"], check, as_list)
    return _range(where, key, value, hint)


def _ends_short(low, high, step):
    """The last value of ``low``, ``low + step``, ... not above ``high`` (Optuna's own rule,
    in decimals so that 0.1 steps are exact)."""
    if isinstance(low, int) and isinstance(high, int) and isinstance(step, int):
        return low + (high - low) // step * step
    d_low, d_step = decimal.Decimal(str(low)), decimal.Decimal(str(step))
    return float((decimal.Decimal(str(high)) - d_low) // d_step * d_step + d_low)


def _choices(where, key, values, check, as_list) -> Param:
    if not values:
        raise ValueError(f"{where}: the list of choices is empty")
    for v in values:
        if isinstance(v, (dict, list)) and not as_list:
            raise ValueError(f"{where}: choices must be numbers, strings or booleans, got {v!r}")
        check(v, "choice")
    encoded = [json.dumps(v) for v in values]
    if len(set(encoded)) != len(encoded):
        raise ValueError(f"{where}: the choices repeat a value: {values}")
    as_list = any(isinstance(v, list) for v in values)
    return Param(key, "choice", choices=tuple(values), as_list=as_list)


def _range(where, key, table, hint) -> Param:
    allowed = "a range is { low = ..., high = ... } with optional step = ... or log = true"
    if "low" not in table or "high" not in table:
        raise ValueError(f"{where}: {allowed}")
    low, high, step, log = table["low"], table["high"], table.get("step"), table.get("log", False)
    numbers = [v for v in (low, high, step) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in numbers):
        raise ValueError(f"{where}: low, high and step must be numbers ({allowed})")
    if not isinstance(log, bool):
        raise ValueError(f"{where}: log must be true or false, got {log!r}")
    integer = _fits(1, hint) and not _fits(1.5, hint)
    floating = _fits(1.5, hint)
    if not (integer or floating):
        raise ValueError(f"{where}: a range needs a numeric setting; {key} is a "
                         f"{_describe(hint)}: give a value or a list of choices")
    if integer and not all(isinstance(v, int) for v in numbers):
        raise ValueError(f"{where}: {key} is an integer setting: low, high and step must be "
                         f"integers (got {table})")
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"{where}: low, high and step must be finite")
    if not low < high:
        raise ValueError(f"{where}: low ({low}) must be below high ({high})")
    if step is not None and step <= 0:
        raise ValueError(f"{where}: step must be positive, got {step}")
    if log and low <= 0:
        raise ValueError(f"{where}: a log-scale range needs low > 0, got {low}")
    if log and step is not None and not (integer and step == 1):
        raise ValueError(f"{where}: a log-scale range takes no step")
    if step is not None and _ends_short(low, high, step) != high:
        end = _ends_short(low, high, step)
        warn(f"{where}: step {step} does not divide the range {low} .. {high}; the range ends "
             f"at {end}")
        high = end
    if integer:
        return Param(key, "int", low=low, high=high, step=step, log=log)
    return Param(key, "float", low=float(low), high=float(high),
                 step=None if step is None else float(step), log=log)
