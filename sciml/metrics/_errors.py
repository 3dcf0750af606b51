"""RMSE, nRMSE, relative L2, cRMSE, bRMSE and the max error (PDEBench)."""

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Real

from ._common import _axes, _batch, _prepare


def rmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int],
) -> Float[Array, ""]:
    r"""Root-mean-square error, $\mathrm{mean}\,\sqrt{\mathrm{mean}_x\, e^2}$.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.
    - `spatial_axes`: the axis or axes of the grid (required; see `sciml.metrics`
        for the two layouts), e.g. `-1` for `(..., C, X)`, `-2` for `(N, T, X, C)`.

    **Returns:**

    The RMSE per remaining index, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.shape)
    return jnp.mean(jnp.sqrt(jnp.mean((pred - true) ** 2, axis=axes)))


def nrmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int],
) -> Float[Array, ""]:
    r"""Normalised RMSE, $\mathrm{mean}\, \|e\|_2 / \|u\|_2$ with norms over space.

    No guard against $\|u\|_2 = 0$, as in PDEBench: such a slice gives inf or NaN.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.
    - `spatial_axes`: the axis or axes of the grid (required; see `sciml.metrics`
        for the two layouts), e.g. `-1` for `(..., C, X)`, `-2` for `(N, T, X, C)`.

    **Returns:**

    The per-index ratio, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.shape)
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


def crmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int],
    batch_axis: int | None = 0,
) -> Float[Array, ""]:
    r"""RMSE of the conserved mean, $\sqrt{\mathrm{mean}_b\,(\mathrm{mean}_x\, e)^2}$.

    The spatial mean of the error is squared, averaged over the batch, rooted, and
    then averaged over the remaining indices (channel, time). It measures how well
    a conserved quantity (the integral of $u$) is kept.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape, e.g. `[B, C, T, X]`.
    - `spatial_axes`: the axis or axes of the grid (required; see `sciml.metrics`
        for the two layouts), e.g. `-1` for `(..., C, X)`, `-2` for `(N, T, X, C)`.
    - `batch_axis`: the axis averaged inside the root; `None` for none (each index
        then gives $|\mathrm{mean}_x\, e|$).

    **Returns:**

    The scalar cRMSE.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.shape)
    batch = _batch(batch_axis, pred.ndim, axes)
    mean_error = jnp.mean(pred - true, axis=axes, keepdims=True) ** 2
    if batch is not None:
        mean_error = jnp.mean(mean_error, axis=batch)
    return jnp.mean(jnp.sqrt(mean_error))


def _boundary_mask(shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros([shape[a] if a in axes else 1 for a in range(len(shape))], bool)
    for a in axes:
        edge = [slice(None)] * len(shape)
        for cell in (0, shape[a] - 1):
            edge[a] = cell
            mask[tuple(edge)] = True
    return mask


def brmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int],
) -> Float[Array, ""]:
    r"""RMSE over the boundary cells only, $\mathrm{mean}\,\sqrt{\mathrm{mean}_{x \in
    \partial}\, e^2}$.

    Boundary cells: in 1-D the first and the last cell; in n-D every cell on an edge
    (first or last index along any spatial axis), each counted once, so a 2-D
    $N_x \times N_y$ grid has $2N_x + 2N_y - 4$ of them. The 2-D set is [U] in the
    sheet (PDEBench may concatenate the four edges, counting corners twice); we take
    the union, the plain reading of "the boundary cells".

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.
    - `spatial_axes`: the axis or axes of the grid (required; see `sciml.metrics`
        for the two layouts), e.g. `-1` for `(..., C, X)`, `-2` for `(N, T, X, C)`.

    **Returns:**

    The boundary RMSE per remaining index, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.shape)
    mask = _boundary_mask(pred.shape, axes)
    count = int(mask.sum())
    squared = jnp.where(mask, (pred - true) ** 2, 0.0)
    return jnp.mean(jnp.sqrt(jnp.sum(squared, axis=axes) / count))


def max_error(
    pred: Real[ArrayLike, "..."], true: Real[ArrayLike, "..."]
) -> Float[Array, ""]:
    r"""The largest absolute error, $\max |\hat u - u|$ over every entry.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape.

    **Returns:**

    The scalar maximum error.
    """
    pred, true = _prepare(pred, true)
    return jnp.max(jnp.abs(pred - true))
