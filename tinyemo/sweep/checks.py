"""What a sweep's space can be refused for before its first trial: a setting the architecture
does not use, a fixed value or a choice that no trial can run, a range whose end no trial can
run, a grid too large to list, a size that cannot fit in memory (:func:`check_memory`, once the
recordings' lengths are known). Each is one ValueError naming the space file and the setting,
raised before anything is created, rather than one failing trial at a time.

A value is refused only when it is invalid with every combination of the other settings'
values (their fixed value, each choice, each range end): a kernel list of 3 with ``depth =
[2, 3]`` is valid in the trials with depth 3.
"""
from __future__ import annotations

import itertools
import warnings
from typing import Iterator

from tinyemo.models.config import ARCHITECTURES, IGNORED, ModelConfig
from tinyemo.models.memory import check_trainable
from tinyemo.sweep.objective import trial_configs
from tinyemo.sweep.space import Param, Space
from tinyemo.util.notices import warn
from tinyemo.util.settings import SettingError

__all__ = ["check_space", "check_memory", "MAX_GRID", "COMBINATIONS", "SIZES"]

MAX_GRID = 10_000          # points a grid search may list (Optuna holds them all in memory)
COMBINATIONS = 2_000       # combinations of the other settings tried before a value is refused
# the settings that make a net larger as they grow (memory and padding: models.memory)
SIZES = ("width", "depth", "kernel_size", "up_kernel_size", "pool", "dilation_base",
         "filter_length", "hidden_size", "num_layers")


def check_space(space: Space, targets, sampler: str) -> None:
    """Refuse ``space`` (ValueError naming its file and the setting) when some setting cannot
    be valid in any trial of ``targets``, or when ``sampler`` is grid and the grid has more
    than :data:`MAX_GRID` points."""
    path = space.path
    archs = _candidates(_param(space, "arch")) if _param(space, "arch") else [ModelConfig.arch]
    for arch in archs:
        if arch not in ARCHITECTURES:
            raise ValueError(f"{path}: arch: unknown architecture {arch!r}; expected one of "
                             f"{', '.join(ARCHITECTURES)}")
    for p in space.params:
        unused = [a for a in archs if p.name in IGNORED.get(a, ())]
        if unused:
            raise ValueError(f"{path}: {p.name}: the {unused[0]} architecture does not use it"
                             + (f" (arch can be {', '.join(archs)})" if len(archs) > 1 else "")
                             + "; remove it from the space")
    refused = [(p.name, what, value, *problem) for p in space.params
               for value, what in _checked_values(p)
               if (problem := _never_valid(space, p, value, targets)) is not None]
    if refused:   # blame the setting the problem names, when it is one of those refused
        name, what, value, _, problem = next((r for r in refused if r[0] == r[3]), refused[0])
        raise ValueError(f"{path}: {name}: {what} {value!r} is invalid in every trial "
                         f"({problem})")
    if sampler == "grid":
        size = space.grid_size()
        if size > MAX_GRID:
            raise ValueError(f"{path}: the grid has {size:,} points, more than the {MAX_GRID:,} a "
                             f"grid search lists; search it with --sampler tpe --trials N (or "
                             f"random), or give fewer values")


def _param(space: Space, name: str) -> Param | None:
    return next((p for p in space.params if p.name == name), None)


def _candidates(p: Param) -> list:
    """The values of ``p`` checked: its fixed value, each choice, or both ends of its range."""
    if p.kind == "fixed":
        return [p.value]
    if p.kind == "choice":
        return list(p.choices)
    return [p.low, p.high]


def _checked_values(p: Param) -> Iterator[tuple[object, str]]:
    what = {"fixed": "value", "choice": "choice"}.get(p.kind)
    for i, value in enumerate(_candidates(p)):
        yield value, what or ("low end" if i == 0 else "high end")


def _never_valid(space: Space, param: Param, value, targets) -> tuple[str, str] | None:
    """None when ``param = value`` makes valid configurations with some combination of the
    other settings for every target; else (field, problem) of the first combination tried."""
    others = [p for p in space.params if p is not param]
    combos = itertools.islice(itertools.product(*(_candidates(p) for p in others)),
                              COMBINATIONS)
    first = None
    for combo in combos:
        settings = {p.name: v for p, v in zip(others, combo)}
        settings[param.name] = value
        problems = [_problem(settings, t) for t in targets]
        if not any(problems):
            return None
        first = first or next(p for p in problems if p)
    return first


def _problem(settings: dict, target: str) -> tuple[str, str] | None:
    try:
        trial_configs(settings, target, ModelConfig.in_channels)
    except SettingError as exc:
        return exc.field, str(exc)
    except (ValueError, TypeError) as exc:
        return "", str(exc)
    return None


def check_memory(space: Space, targets, frames: list[int], in_channels: int,
                 available: int | None = None) -> None:
    """What ``tinyemo train`` checks before training (:func:`~tinyemo.models.memory.
    check_trainable`: memory, the input average, the down/up padding warning), for the trials
    of ``space`` on recordings of ``frames`` rows: the fixed settings with every searched size
    (:data:`SIZES`) at its smallest value, then each searched size at its largest. ValueError
    naming the space file and the setting when no architecture of the space can run it."""
    searched = [p for p in space.params if p.name in SIZES and p.kind != "fixed"]
    base = {p.name: min(_candidates(p), key=_size) for p in searched}
    arch = _param(space, "arch")
    archs = _candidates(arch) if arch else [ModelConfig.arch]
    with warnings.catch_warnings(record=True) as said:   # each warning once, not once per check
        warnings.simplefilter("always")
        for param, settings in [(None, base)] + [
                (p, {**base, p.name: max(_candidates(p), key=_size)}) for p in searched]:
            problems = []
            for a in archs:      # (check_space refused a size some architecture ignores)
                problems = [_memory_problem({**space.fixed(), **settings, "arch": a}, t, frames,
                                            in_channels, available) for t in targets]
                if not any(problems):
                    break
            first = next((p for p in problems if p), None)
            if first is not None:
                field, problem = first
                what = ("" if param is None else
                        f"the largest value {settings[param.name]!r} cannot be trained: ")
                raise ValueError(f"{space.path}: {param.name if param else field}: "
                                 f"{what}{problem}")
    for message in dict.fromkeys(str(w.message) for w in said):
        warn(message)


def _size(value) -> tuple:
    """How large a size setting's value is (a list of kernels: by its largest, then length)."""
    return (max(value), len(value)) if isinstance(value, (list, tuple)) else (value, 1)


def _memory_problem(settings: dict, target: str, frames, in_channels, available
                    ) -> tuple[str, str] | None:
    try:
        model, _ = trial_configs(settings, target, in_channels)
    except (ValueError, TypeError):
        return None      # a combination no trial runs (check_space refused the impossible ones)
    try:
        check_trainable(model, frames, available, target)
    except SettingError as exc:
        return exc.field, exc.problem
    return None
