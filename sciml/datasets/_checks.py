"""Argument checks shared by the generators: each returns the value as a plain
Python number or raises a `ValueError` that names the argument and a fix."""

import math
from typing import Any

import numpy as np


def integer(name: str, value: Any, low: int) -> int:
    """`value` as an `int`, which must be an integer (not a bool) `>= low`."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}; e.g. {name}={low}.")
    return int(value)


def real(name: str, value: Any, *, positive: bool = False) -> float:
    """`value` as a `float`, which must be a finite real number (and `> 0` when
    `positive`)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    return float(value)
