r"""Error metrics of PDEBench (Takamoto et al., NeurIPS 2022), spec §6.

Each metric takes a prediction $\hat u$ and the truth $u$ of identical shape, with
$e = \hat u - u$. A norm runs over `spatial_axes`; the error is computed for every
remaining index (batch, channel, time, ...) and then averaged into one scalar.
Pure `jax.numpy`: every function jits (`spatial_axes` static).
"""

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real


def _prepare(
    pred: Real[ArrayLike, "..."], true: Real[ArrayLike, "..."]
) -> tuple[Array, Array]:
    pred, true = jnp.asarray(pred), jnp.asarray(true)
    if pred.shape != true.shape:
        raise ValueError(
            f"pred and true must have the same shape, got {pred.shape} and "
            f"{true.shape}. Align them (e.g. drop the input frames) first."
        )
    dtype = jnp.result_type(pred.dtype, true.dtype, jnp.float32)
    return pred.astype(dtype), true.astype(dtype)


def _axes(spatial_axes: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    axes = (spatial_axes,) if isinstance(spatial_axes, int) else tuple(spatial_axes)
    if not axes or any(not -ndim <= a < ndim for a in axes):
        raise ValueError(
            f"spatial_axes={spatial_axes!r} is invalid for arrays with {ndim} axes; "
            f"name one or more axes in [-{ndim}, {ndim})."
        )
    normalised = tuple(sorted({a % ndim for a in axes}))
    if len(normalised) != len(axes):
        raise ValueError(f"spatial_axes={spatial_axes!r} repeats an axis.")
    return normalised


def rmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int] = -1,
) -> Float[Array, ""]:
    r"""Root-mean-square error, $\mathrm{mean}\,\sqrt{\mathrm{mean}_x\, e^2}$.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.
    - `spatial_axes`: the axis or axes the inner mean runs over.

    **Returns:**

    The RMSE per remaining index, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.ndim)
    return jnp.mean(jnp.sqrt(jnp.mean((pred - true) ** 2, axis=axes)))


def nrmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int] = -1,
) -> Float[Array, ""]:
    r"""Normalised RMSE, $\mathrm{mean}\, \|e\|_2 / \|u\|_2$ with norms over space.

    No guard against $\|u\|_2 = 0$, as in PDEBench: such a slice gives inf or NaN.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.
    - `spatial_axes`: the axis or axes the norms run over.

    **Returns:**

    The per-index ratio, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.ndim)
    error = jnp.sqrt(jnp.sum((pred - true) ** 2, axis=axes))
    return jnp.mean(error / jnp.sqrt(jnp.sum(true**2, axis=axes)))


def relative_l2(
    pred: Real[ArrayLike, "batch ..."], true: Real[ArrayLike, "batch ..."]
) -> Float[Array, ""]:
    r"""Relative $L^2$ error per sample, $\|e_b\|_2/\|u_b\|_2$, averaged over the batch.

    The norms run over every axis but the first (the batch axis).

    **Arguments:**

    - `pred`, `true`: arrays of identical shape, batch axis first (rank >= 2).

    **Returns:**

    The mean over the batch of the per-sample relative error.
    """
    pred, true = _prepare(pred, true)
    if pred.ndim < 2:
        raise ValueError(
            f"relative_l2 needs a batch axis and at least one more, got shape "
            f"{pred.shape}; add a batch axis with x[None]."
        )
    axes = tuple(range(1, pred.ndim))
    error = jnp.sqrt(jnp.sum((pred - true) ** 2, axis=axes))
    return jnp.mean(error / jnp.sqrt(jnp.sum(true**2, axis=axes)))
