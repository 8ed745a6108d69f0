"""Checks for the fields of the settings dataclasses (``ModelConfig``, ``TrainConfig``, …):
each raises a one-line ``ValueError`` that starts with the field's name, so an entry point can
name its own option for it."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["integer", "number", "choice"]


def integer(name: str, value, minimum: int) -> int:
    """``value`` as an int, or ValueError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def number(name: str, value, low: float, high: float = math.inf, low_open: bool = False) -> float:
    """``value`` as a float, or ValueError unless low <= value < high (low < value when
    ``low_open``); NaN and infinity are refused."""
    ok = (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
          and (value > low if low_open else value >= low) and value < high)
    if not ok:
        bound = f"{'>' if low_open else '>='} {low:g}" + (f" and < {high:g}" if high < math.inf
                                                          else "")
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


def choice(name: str, value, allowed: tuple):
    """``value``, or ValueError unless it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value
