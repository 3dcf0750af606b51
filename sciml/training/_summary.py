"""Parameter counts and a one-screen model summary."""

import dataclasses
from typing import Any

import equinox as eqx
import jax
from jaxtyping import PyTree


def _parameters(tree: Any) -> list:
    return jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array))


def count_parameters(model: PyTree) -> int:
    """Count the trainable parameters of a model: the entries of its inexact arrays.

    These are the arrays `fit` and `make_step` train,
    `eqx.filter(model, eqx.is_inexact_array)`. Integer and boolean arrays, PRNG
    keys and static fields (such as the statistics of a
    [`sciml.training.Normaliser`][]) are not counted. A complex entry counts as
    one parameter (as `torch.numel` does), not as two real numbers.

    **Arguments:**

    - `model`: an equinox module, or any pytree.

    **Returns:**

    The number of entries, an `int`.
    """
    return sum(int(x.size) for x in _parameters(model))


def _children(model: Any) -> list[tuple[str, Any]]:
    if isinstance(model, eqx.Module):
        return [
            (f.name, getattr(model, f.name, None))
            for f in dataclasses.fields(model)
            if not f.metadata.get("static", False)
        ]
    if isinstance(model, dict):
        return [(str(k), v) for k, v in model.items()]
    if isinstance(model, list | tuple):
        return [(f"[{i}]", v) for i, v in enumerate(model)]
    return []


def _kind(value: Any) -> str:
    if eqx.is_array(value):
        return f"{value.dtype}[{','.join(map(str, value.shape))}]"
    if isinstance(value, list | tuple):
        return f"{type(value).__name__}[{len(value)}]"
    return type(value).__name__


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def summary(model: PyTree) -> str:
    """Describe a model in a few lines: its parameter count, in total and per field.

    The first line gives the class, the total of
    [`sciml.training.count_parameters`][] and the parameters' memory (with the
    count per dtype when there is more than one); then one line per top-level
    field (per key of a dict, per entry of a list or tuple) with its type and
    parameter count. Static fields hold no parameters and are left out. `fit`
    logs this at start.

    **Arguments:**

    - `model`: an equinox module, or any pytree.

    **Returns:**

    The summary, a multi-line `str`.
    """
    params = _parameters(model)
    total = count_parameters(model)
    nbytes = sum(int(x.size) * x.dtype.itemsize for x in params)
    by_dtype: dict[str, int] = {}
    for x in params:
        by_dtype[str(x.dtype)] = by_dtype.get(str(x.dtype), 0) + int(x.size)
    head = f"{type(model).__name__}: {total:,} parameters ({_size(nbytes)})"
    if len(by_dtype) > 1:
        head += " = " + " + ".join(f"{n:,} {d}" for d, n in sorted(by_dtype.items()))
    rows = [
        (name, _kind(v), f"{count_parameters(v):,}") for name, v in _children(model)
    ]
    if not rows:
        return head
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows
    ]
    return "\n".join([head, *lines])
