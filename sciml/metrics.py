r"""Error metrics of PDEBench (Takamoto et al., NeurIPS 2022), spec §6.

Each metric takes a prediction $\hat u$ and the truth $u$ of identical shape, with
$e = \hat u - u$. A norm runs over `spatial_axes`; the error is computed for every
remaining index (batch, channel, time, ...) and then averaged into one scalar.
Pure `jax.numpy`: every function jits (`spatial_axes` static). Besides RMSE, nRMSE
and relative L2: cRMSE (conserved mean), bRMSE (boundary cells), fRMSE (Fourier
bands low/mid/high) and the max error.
"""

import math
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
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


def _batch(batch_axis: int | None, ndim: int, spatial: tuple[int, ...]) -> int | None:
    if batch_axis is None:
        return None
    if not -ndim <= batch_axis < ndim or batch_axis % ndim in spatial:
        raise ValueError(
            f"batch_axis={batch_axis!r} is invalid for arrays with {ndim} axes and "
            f"spatial axes {spatial}; name another axis in [-{ndim}, {ndim}) or None."
        )
    return batch_axis % ndim


def crmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int] = -1,
    batch_axis: int | None = 0,
) -> Float[Array, ""]:
    r"""RMSE of the conserved mean, $\sqrt{\mathrm{mean}_b\,(\mathrm{mean}_x\, e)^2}$.

    The spatial mean of the error is squared, averaged over the batch, rooted, and
    then averaged over the remaining indices (channel, time). It measures how well
    a conserved quantity (the integral of $u$) is kept.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape, e.g. `[B, C, T, X]`.
    - `spatial_axes`: the axis or axes the inner mean runs over.
    - `batch_axis`: the axis averaged inside the root; `None` for none (each index
        then gives $|\mathrm{mean}_x\, e|$).

    **Returns:**

    The scalar cRMSE.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.ndim)
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
    spatial_axes: int | Sequence[int] = -1,
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
    - `spatial_axes`: the spatial axis (1-D) or axes (n-D).

    **Returns:**

    The boundary RMSE per remaining index, averaged to a scalar.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.ndim)
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


FRMSE_BANDS: dict[str, tuple[float, float]] = {
    "low": (0, 4),
    "mid": (4, 12),
    "high": (12, math.inf),
}


def _shells(sizes: tuple[int, ...]) -> np.ndarray:
    """Integer wavenumber shell of every mode: $\\lfloor |k| \\rfloor$; rFFT modes in
    1-D, full FFT modes in n-D."""
    if len(sizes) == 1:
        return np.arange(sizes[0] // 2 + 1)
    ks = [np.abs(np.fft.fftfreq(n) * n).round().astype(np.int64) for n in sizes]
    k2 = sum(k**2 for k in np.meshgrid(*ks, indexing="ij"))
    radius = np.floor(np.sqrt(k2)).astype(np.int64)
    radius -= radius**2 > k2  # exact integer square root
    radius += (radius + 1) ** 2 <= k2
    return radius


def frmse(
    pred: Real[ArrayLike, "..."],
    true: Real[ArrayLike, "..."],
    *,
    spatial_axes: int | Sequence[int] = -1,
    batch_axis: int | None = 0,
    domain_length: float | Sequence[float] = 1.0,
    bands: Mapping[str, tuple[float, float]] = FRMSE_BANDS,
) -> dict[str, Float[Array, ""]]:
    r"""RMSE of the error's Fourier spectrum in wavenumber bands (low, mid, high).

    With $\hat E_b(k)$ the FFT of $e_b$ over space, each integer shell $k$ gets
    $F(k) = \sqrt{\mathrm{mean}_b \sum_{|\kappa| \in \text{shell } k}
    |\hat E_b(\kappa)|^2}\ \prod_d L_d/N_d$, and a band's value is the **mean** of
    $F(k)$ over the shells $k$ in the band, then averaged over the remaining
    indices (channel, time). Bands (PDEBench): low $0 \le k < 4$, mid
    $4 \le k < 12$, high $k \ge 12$.

    - 1-D: the rFFT, modes $k = 0 .. N/2$, one per shell, exactly the sheet's
        $F(k) = \sqrt{\mathrm{mean}_b |\hat E_b(k)|^2}\, L/N_x$.
    - n-D: the full FFT, shell $k = \lfloor \sqrt{k_x^2 + k_y^2} \rfloor$ (integer
        wavenumbers), summing $|\hat E|^2$ over the shell's modes (both $\pm\kappa$,
        so the value does not depend on a wave's direction).

    [U] in the sheet: mean (ours) versus sum of $F(k)$ over a band; the 2-D shell
    rounding (we floor, so a band's edge is the radius itself) and summing.

    **Arguments:**

    - `pred`, `true`: arrays of identical shape, e.g. `[B, C, T, X]`.
    - `spatial_axes`: the axis or axes of the FFT.
    - `batch_axis`: the axis averaged inside the root (`None`: none).
    - `domain_length`: $L$, one value or one per spatial axis.
    - `bands`: name -> `(k_low, k_high)`, half-open; default `FRMSE_BANDS`.

    **Returns:**

    A dict band name -> scalar, e.g. `{"low": ..., "mid": ..., "high": ...}`; a band
    with no mode on this grid (e.g. "high" when $N_x < 24$) gives NaN.
    """
    pred, true = _prepare(pred, true)
    axes = _axes(spatial_axes, pred.ndim)
    batch = _batch(batch_axis, pred.ndim, axes)
    lengths = (
        (float(domain_length),) * len(axes)
        if isinstance(domain_length, int | float)
        else tuple(float(v) for v in domain_length)
    )
    if len(lengths) != len(axes):
        raise ValueError(
            f"domain_length={domain_length!r} names {len(lengths)} lengths for "
            f"{len(axes)} spatial axes; pass one, or one per axis."
        )
    error = pred - true
    if len(axes) == 1:
        spectrum = jnp.fft.rfft(error, axis=axes[0])
    else:
        spectrum = jnp.fft.fftn(error, axes=axes)
    power = jnp.abs(spectrum) ** 2
    if batch is not None:
        power = jnp.mean(power, axis=batch, keepdims=True)
    # modes first, flattened: (M, rest...)
    power = jnp.moveaxis(power, axes, tuple(range(len(axes))))
    rest = power.shape[len(axes) :]
    power = power.reshape(-1, *rest)
    shells = _shells(tuple(pred.shape[a] for a in axes)).reshape(-1)
    n_shells = int(shells.max()) + 1
    summed = jax.ops.segment_sum(power, jnp.asarray(shells), num_segments=n_shells)
    scale = math.prod(L / pred.shape[a] for L, a in zip(lengths, axes, strict=True))
    amplitude = jnp.sqrt(summed) * scale  # F(k), shape (K, rest...)
    present = np.bincount(shells, minlength=n_shells) > 0
    out: dict[str, Float[Array, ""]] = {}
    for name, (low, high) in bands.items():
        ks = [k for k in range(n_shells) if low <= k < high and present[k]]
        if not ks:
            out[name] = jnp.asarray(jnp.nan, amplitude.dtype)
        else:
            out[name] = jnp.mean(jnp.mean(amplitude[jnp.asarray(ks)], axis=0))
    return out
