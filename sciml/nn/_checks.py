"""Argument checks shared by the building blocks (messages say what, got, and fix)."""

from collections.abc import Sequence


def positive_int(name: str, value, owner: str) -> int:
    """Check that `value` is a positive integer and return it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{owner}: expected `{name}` to be a positive integer, got {value!r}."
        )
    return value


def int_tuple(name: str, value, owner: str, length: int | None = None) -> tuple:
    """Check an int or a sequence of positive ints; return it as a tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * (length or 1)
    if not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(
            f"{owner}: expected `{name}` to be an int or a non-empty sequence of ints, "
            f"got {value!r}."
        )
    out = tuple(positive_int(name, v, owner) for v in value)
    if length is not None and len(out) != length:
        raise ValueError(
            f"{owner}: expected `{name}` to have {length} entries, got {len(out)}."
        )
    return out
