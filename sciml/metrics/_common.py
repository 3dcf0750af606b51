"""What every metric shares: aligning the inputs and checking the axes."""

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Real

from .._checks import integers


def _prepare(
    pred: Real[ArrayLike, "..."], true: Real[ArrayLike, "..."]
) -> tuple[Array, Array]:
    """`pred` and `true` as arrays of one shape and a common floating dtype."""
    pred, true = jnp.asarray(pred), jnp.asarray(true)
    if pred.shape != true.shape:
        raise ValueError(
            f"pred and true must have the same shape, got {pred.shape} and "
            f"{true.shape}. Align them (e.g. drop the input frames) first."
        )
    dtype = jnp.result_type(pred.dtype, true.dtype, jnp.float32)
    return pred.astype(dtype), true.astype(dtype)


def _axes(spatial_axes: int | Sequence[int], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial axes as sorted non-negative indices, checked against `shape`."""
    ndim = len(shape)
    axes = integers("spatial_axes", spatial_axes, minimum=None)
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(
            f"spatial_axes={spatial_axes!r} is invalid for arrays with {ndim} axes; "
            f"name one or more axes in [-{ndim}, {ndim})."
        )
    normalised = tuple(sorted({a % ndim for a in axes}))
    if len(normalised) != len(axes):
        raise ValueError(f"spatial_axes={spatial_axes!r} repeats an axis.")
    flat = [a for a in normalised if shape[a] == 1]
    if flat:
        raise ValueError(
            f"spatial_axes={spatial_axes!r} names axis {flat[0]} of shape {shape}, "
            f"which has size 1: a grid axis has more than one cell, so this is "
            f"probably a channel axis. Channel-first model outputs (..., C, X[, Y]) "
            f"take spatial_axes=-1 or (-2, -1); the file layout (N, T, X[, Y], C) "
            f"of `sciml.datasets.load(...).u` takes spatial_axes=-2 or (-3, -2)."
        )
    return normalised


def _batch(batch_axis: int | None, ndim: int, spatial: tuple[int, ...]) -> int | None:
    """The batch axis as a non-negative index (or `None`), not a spatial one."""
    if batch_axis is None:
        return None
    if not -ndim <= batch_axis < ndim or batch_axis % ndim in spatial:
        raise ValueError(
            f"batch_axis={batch_axis!r} is invalid for arrays with {ndim} axes and "
            f"spatial axes {spatial}; name another axis in [-{ndim}, {ndim}) or None."
        )
    return batch_axis % ndim
