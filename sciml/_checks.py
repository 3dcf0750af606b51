"""The argument checks every room of sciml shares, with one rule:

- a value of the wrong **type** raises `TypeError` (a string where a number belongs,
  a float where an integer belongs, a bool anywhere but `boolean`);
- a value of the right type but a wrong **value** raises `ValueError` (negative,
  out of range, not finite, not one of the choices).

Each check returns the value in its plain Python form (`int`, `float`, a tuple), so
callers write `nx = integer("nx", nx, minimum=5)`. Every message names the argument,
says what was expected and what came, and suggests a fix. `owner` (a class or
function name) prefixes the message, e.g. `"MLP: ..."`.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["boolean", "choice", "integer", "integers", "real"]


def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def is_real(value: Any) -> bool:
    """Whether `value` is a real Python or numpy number (not a bool, not an array)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    owner: str | None = None,
) -> int:
    """`value` as an `int`: an integer (not a bool) in `[minimum, maximum]`."""
    where = _prefix(owner)
    if not _is_integer(value):
        raise TypeError(
            f"{where}{name} must be an integer, got {type(value).__name__} {value!r}; "
            f"e.g. {name}={minimum if minimum is not None else 1}."
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{where}{name} must be >= {minimum}, got {value}; e.g. {name}={minimum}."
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{where}{name} must be <= {maximum}, got {value}; e.g. {name}={maximum}."
        )
    return int(value)


def real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    owner: str | None = None,
) -> float:
    """`value` as a `float`: a finite real number (not a bool) with
    `minimum <= value <= maximum` and `above < value < below`, for the bounds given."""
    where = _prefix(owner)
    if not is_real(value):
        raise TypeError(
            f"{where}{name} must be a real number, got {type(value).__name__} "
            f"{value!r}; e.g. {name}=0.1."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where}{name} must be finite, got {value!r}.")
    bounds = (
        (minimum, lambda v, b: v >= b, ">="),
        (maximum, lambda v, b: v <= b, "<="),
        (above, lambda v, b: v > b, ">"),
        (below, lambda v, b: v < b, "<"),
    )
    wanted = [f"{sign} {bound:g}" for bound, _, sign in bounds if bound is not None]
    for bound, holds, _ in bounds:
        if bound is not None and not holds(value, bound):
            raise ValueError(
                f"{where}{name} must be {' and '.join(wanted)}, got {value!r}."
            )
    return value


def boolean(name: str, value: Any, *, owner: str | None = None) -> bool:
    """`value` as a `bool`: `True` or `False` (numpy's bools too), nothing else."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{_prefix(owner)}{name} must be True or False, got "
            f"{type(value).__name__} {value!r}."
        )
    return bool(value)


def choice(name: str, value: Any, options: Iterable[Any], *, owner: str | None = None):
    """`value`, which must be one of `options` (a wrong choice is a `ValueError`)."""
    options = tuple(options)
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        raise ValueError(
            f"{_prefix(owner)}{name} must be one of {shown}, got {value!r}."
        )
    return value


def integers(
    name: str,
    value: Any,
    *,
    length: int | None = None,
    minimum: int | None = 1,
    owner: str | None = None,
) -> tuple[int, ...]:
    """`value` as a tuple of integers `>= minimum`: one integer (repeated `length`
    times, or once) or a non-empty sequence of them (of `length` entries, if given)."""
    where = _prefix(owner)
    if _is_integer(value):
        value = (value,) * (length or 1)
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise TypeError(
            f"{where}{name} must be an integer or a non-empty sequence of integers, "
            f"got {value!r}."
        )
    out = tuple(integer(name, v, minimum=minimum, owner=owner) for v in value)
    if length is not None and len(out) != length:
        raise ValueError(
            f"{where}{name} must have {length} entries, got {len(out)} ({value!r})."
        )
    return out
