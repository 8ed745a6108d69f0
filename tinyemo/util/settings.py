"""Settings objects that check themselves.

Every frozen settings dataclass (:class:`~tinyemo.train.loop.TrainConfig`,
:class:`~tinyemo.models.ModelConfig`, :class:`~tinyemo.runs.experiment.ExperimentConfig`) calls
:func:`check_fields` from ``__post_init__``, so an invalid value is refused where the object is
made, before anything is written, with a :class:`SettingError` that names the field. The
command line turns the field into its option (``weight_decay`` → ``--weight-decay``).

Every field is checked against its annotation, so a field added later is checked with no
further code: an ``int`` is an integer (not a bool), a ``float`` a finite number, a ``bool`` a
bool, a ``str`` a string, ``tuple[X, ...]`` a tuple (or list) of X, ``X | None`` also allows None.
``rules`` add ranges and choices (:func:`at_least`, :func:`greater_than`, :func:`one_of`).
"""
from __future__ import annotations

import math
import numbers
import types
import typing
from dataclasses import fields
from typing import Any, Callable

__all__ = ["SettingError", "check_fields", "at_least", "greater_than", "one_of"]

Rule = Callable[[Any], "str | None"]   # a value → None when fine, else the problem


class SettingError(ValueError):
    """An invalid setting: ``field`` (the dataclass field's name) and ``problem``."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def at_least(low) -> Rule:
    return lambda v: None if v >= low else f"must be >= {low}, got {v!r}"


def greater_than(low) -> Rule:
    return lambda v: None if v > low else f"must be > {low}, got {v!r}"


def one_of(*choices) -> Rule:
    return lambda v: None if v in choices else (
        f"must be one of {', '.join(map(str, choices))}, got {v!r}")


def check_fields(obj, **rules: Rule) -> None:
    """Check every field of the dataclass instance ``obj`` against its annotation, then
    against ``rules[name]`` (not applied to None). Raises :class:`SettingError`."""
    try:
        hints = typing.get_type_hints(type(obj))
    except (NameError, TypeError):   # an annotation only a type checker can resolve
        hints = {}
    names = {f.name for f in fields(obj)}
    unknown = set(rules) - names
    if unknown:
        raise TypeError(f"rules for unknown fields of {type(obj).__name__}: {sorted(unknown)}")
    for f in fields(obj):
        value = getattr(obj, f.name)
        problem = _type_problem(hints.get(f.name, Any), value)
        if problem is None and value is not None and f.name in rules:
            problem = rules[f.name](value)
        if problem is not None:
            raise SettingError(f.name, problem)


def _type_problem(tp, value) -> str | None:
    """Why ``value`` is not a ``tp``, or None. Types it does not know are accepted."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = [_type_problem(a, value) for a in args if a is not type(None)]
        return None if any(p is None for p in problems) else problems[0]
    if tp is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if tp is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        return None if ok else f"must be an integer, got {value!r}"
    if tp is float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return f"must be a number, got {value!r}"
        return None if math.isfinite(value) else f"must be a finite number, got {value!r}"
    if tp is str:
        return None if isinstance(value, str) else f"must be a string, got {value!r}"
    if origin is tuple:   # a list too: the same setting read back from JSON
        if not isinstance(value, (tuple, list)):
            return f"must be a sequence, got {value!r}"
        if len(args) == 2 and args[1] is Ellipsis:
            for item in value:
                problem = _type_problem(args[0], item)
                if problem is not None:
                    return f"{problem} (in {value!r})"
        return None
    if origin is typing.Literal:
        return None if value in args else (
            f"must be one of {', '.join(map(repr, args))}, got {value!r}")
    if isinstance(origin, type):
        return None if isinstance(value, origin) else (
            f"must be a {origin.__name__}, got {value!r}")
    if isinstance(tp, type) and origin is None and tp is not Any:
        return None if isinstance(value, tp) else f"must be a {tp.__name__}, got {value!r}"
    return None
