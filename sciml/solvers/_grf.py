r"""Gaussian random fields behind the initial conditions (squared-exponential, periodic).

Two samplers, both exact in distribution on the grids they are asked for:

- a squared-exponential field $\mathrm{Cov}(g(x), g(x')) = \sigma^2
  \exp(-|x - x'|^2 / (2\ell^2))$ on a tensor grid of points (not periodic). The
  kernel is separable, so a 2-D sample is $F_x Z F_y^\top$ with $Z$ white noise and
  $F F^\top = K$ the 1-D factors (eigendecomposition, negative round-off
  eigenvalues clipped), computed once in float64 with numpy.
- the periodic kernel of the Navier-Stokes data (spec pdebench.md §5),
  $k(x, x') = \prod_d \exp(-2 \sin^2(\pi (x_d - x'_d)) / \ell^2)$ on the unit torus,
  sampled by its Fourier series, so that a sample is one trigonometric polynomial
  whatever resolution it is evaluated at (see `periodic_grf_2d`).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from .._random import flat_draw

# Fourier modes kept for the periodic field: |k| <= _PERIODIC_MODES per axis.
_PERIODIC_MODES = 15
_PERIODIC_GRID = 2 * _PERIODIC_MODES + 2  # white-noise grid (32)


def se_factor(points: np.ndarray, length_scale: float | int) -> np.ndarray:
    r"""A factor $F$ with $F F^\top = K$, $K_{ij} = \exp(-(x_i - x_j)^2/(2\ell^2))$.

    **Arguments:**

    - `points`: 1-D numpy array of grid points.
    - `length_scale`: $\ell > 0$.

    **Returns:**

    A float64 numpy array `(n, n)`; `F @ z` with `z ~ N(0, I)` has covariance `K`.
    """
    points = np.asarray(points, dtype=np.float64)
    diff = points[:, None] - points[None, :]
    kernel = np.exp(-0.5 * (diff / length_scale) ** 2)
    values, vectors = np.linalg.eigh(kernel)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[None, :]


def se_grf(factors: tuple[Array, ...], *, key: PRNGKeyArray) -> Float[Array, "*grid"]:
    """One unit-variance separable squared-exponential field on a 1-D or 2-D tensor
    grid, from the factors of `se_factor` (one per axis), in their dtype."""
    z = flat_draw(
        jax.random.normal,
        key,
        tuple(f.shape[1] for f in factors),
        dtype=factors[0].dtype,
    )
    if len(factors) == 1:
        return factors[0] @ z
    return factors[0] @ z @ factors[1].T


def periodic_kernel_spectrum(length_scale: float | int) -> np.ndarray:
    r"""Fourier coefficients $\lambda_k$ of $\exp(-2\sin^2(\pi s)/\ell^2)$, $k = 0..M-1$.

    Exactly $\lambda_k = e^{-1/\ell^2} I_k(1/\ell^2)$; computed as the FFT of the
    kernel on 256 points (aliasing error below float64 round-off for $\ell \ge
    0.2$), clipped at 0.

    **Returns:**

    float64 array `(M,)` in numpy FFT order for the white-noise grid of size M=32
    (modes with $|k| > 15$ set to zero).
    """
    fine = 256
    s = np.arange(fine) / fine
    row = np.exp(-2.0 * np.sin(np.pi * s) ** 2 / length_scale**2)
    spectrum = np.clip(np.fft.fft(row).real / fine, 0.0, None)
    k = np.fft.fftfreq(_PERIODIC_GRID, 1.0 / _PERIODIC_GRID)
    out = spectrum[np.mod(k, fine).astype(int)]
    out[np.abs(k) > _PERIODIC_MODES] = 0.0
    return out


def periodic_grf_coefficients(
    spectrum: Float[Array, " M"], *, key: PRNGKeyArray
) -> Complex[Array, "M M"]:
    r"""Fourier coefficients (real FFT layout on an `M x M` grid) of one periodic GRF.

    White noise $z$ on the $M \times M$ grid, $\hat w = \sqrt{\lambda_{k_x}
    \lambda_{k_y}}\, \mathrm{FFT}(z)$; the $k = 0$ coefficient is removed (zero mean)
    and the field scaled to unit spatial standard deviation (by Parseval, exactly the
    same at every resolution that holds its modes).

    **Returns:**

    complex array `(M, M)`: $\hat w$ such that $w(x) = \sum_k \hat w_k e^{2\pi i k
    \cdot x}$.
    """
    m = spectrum.shape[0]
    z = jax.random.normal(key, (m, m), spectrum.dtype)
    amp = jnp.sqrt(spectrum[:, None] * spectrum[None, :])
    coeffs = jnp.fft.fft2(z) / m * amp  # sqrt(C) z, normalised to e^{2 pi i k x}
    coeffs = coeffs.at[0, 0].set(0.0)
    std = jnp.sqrt(jnp.sum(jnp.abs(coeffs) ** 2))
    return coeffs / jnp.maximum(std, jnp.finfo(spectrum.dtype).tiny)


def periodic_grf_2d(
    spectrum: Float[Array, " M"], n: int, *, key: PRNGKeyArray
) -> Float[Array, "n n"]:
    r"""One periodic GRF (zero mean, unit std) at the points $(i/n, j/n)$.

    The field is the trigonometric polynomial with modes $|k_d| \le 15$ of
    `periodic_grf_coefficients`, so the same key gives the same function at every
    resolution $n \ge 32$ (smaller $n$ keep the modes $|k_d| < n/2$ only).

    **Arguments:**

    - `key`: PRNG key.
    - `spectrum`: `periodic_kernel_spectrum(length_scale)` as a JAX array.
    - `n`: grid points per axis (even).

    **Returns:**

    Real array `(n, n)`, axis 0 = x, axis 1 = y.
    """
    coeffs = periodic_grf_coefficients(spectrum, key=key)
    m = spectrum.shape[0]
    keep = min(_PERIODIC_MODES, n // 2 - 1)
    idx = np.concatenate([np.arange(keep + 1), np.arange(-keep, 0)])
    full = jnp.zeros((n, n), coeffs.dtype)
    rows = np.mod(idx, n)[:, None]
    cols = np.mod(idx, n)[None, :]
    sub = coeffs[np.mod(idx, m)[:, None], np.mod(idx, m)[None, :]]
    full = full.at[rows, cols].set(sub)
    return jnp.real(jnp.fft.ifft2(full)) * (n * n)
