"""What a sweep's space can be refused for before its first trial: a setting the architecture
does not use, a fixed value or a choice that no trial can run, a range whose end no trial can
run, a grid too large to list. Each is one ValueError naming the space file and the setting,
raised before anything is created, rather than one failing trial at a time.

A value is refused only when it is invalid with every combination of the other settings'
values (their fixed value, each choice, each range end): a kernel list of 3 with ``depth =
[2, 3]`` is valid in the trials with depth 3.
"""
from __future__ import annotations

import itertools
from typing import Iterator

from tinyemo.models.config import ARCHITECTURES, IGNORED, ModelConfig
from tinyemo.sweep.objective import trial_configs
from tinyemo.sweep.space import Param, Space
from tinyemo.util.settings import SettingError

__all__ = ["check_space", "MAX_GRID", "COMBINATIONS"]

MAX_GRID = 10_000          # points a grid search may list (Optuna holds them all in memory)
COMBINATIONS = 2_000       # combinations of the other settings tried before a value is refused


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
