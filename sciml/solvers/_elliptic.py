r"""Elliptic integrals and Jacobi's elliptic functions in float64 numpy, for the
pendulum's closed-form solution (`sciml.solvers.Pendulum`)."""

import numpy as np
from jaxtyping import ArrayLike


def agm(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The arithmetic-geometric mean of `a` and `b` (float64, elementwise)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    for _ in range(64):
        if np.all(np.abs(a - b) <= 1e-16 * np.abs(a)):
            break
        a, b = (a + b) / 2, np.sqrt(a * b)
    return np.asarray(a)


def ellipk(m: ArrayLike) -> np.ndarray:
    r"""The complete elliptic integral of the first kind, $K(m) = \pi / (2\,
    \mathrm{AGM}(1, \sqrt{1-m}))$, for the parameter $0 \le m < 1$."""
    return np.asarray(np.pi / (2 * agm(1.0, np.sqrt(1.0 - np.asarray(m, np.float64)))))


def _carlson_rf(x, y, z):
    """Carlson's symmetric integral R_F(x, y, z) by duplication (float64)."""
    x, y, z = (np.asarray(v, np.float64) for v in (x, y, z))
    for _ in range(64):
        s = np.sqrt(x), np.sqrt(y), np.sqrt(z)
        lam = s[0] * s[1] + s[1] * s[2] + s[2] * s[0]
        x, y, z = (x + lam) / 4, (y + lam) / 4, (z + lam) / 4
        mean = (x + y + z) / 3
        if np.all(np.abs(np.stack([x, y, z]) - mean) <= 1e-12 * np.abs(mean)):
            break
    mean = (x + y + z) / 3
    dx, dy, dz = 1 - x / mean, 1 - y / mean, 1 - z / mean
    e2, e3 = dx * dy - dz**2, dx * dy * dz
    return (1 - e2 / 10 + e3 / 14 + e2**2 / 24 - 3 * e2 * e3 / 44) / np.sqrt(mean)


def ellipf(phi: ArrayLike, m: ArrayLike) -> np.ndarray:
    r"""The incomplete elliptic integral of the first kind $F(\varphi \mid m)$ for any
    real amplitude $\varphi$ and $0 \le m < 1$ (Carlson's $R_F$, with
    $F(n\pi + \psi) = 2nK + F(\psi)$)."""
    phi, m = np.broadcast_arrays(np.asarray(phi, np.float64), np.asarray(m, np.float64))
    n = np.round(phi / np.pi)
    psi = phi - n * np.pi  # in [-pi/2, pi/2]
    s, c = np.sin(psi), np.cos(psi)
    rf = _carlson_rf(c**2, 1 - m * s**2, np.ones_like(s))
    return np.asarray(2 * n * ellipk(m) + s * rf)


def ellipj(u: ArrayLike, m: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Jacobi's elliptic functions $\mathrm{sn}, \mathrm{cn}, \mathrm{dn}$ of
    argument `u` and parameter $0 \le m < 1$, by the descending Landen (AGM) scheme
    of Abramowitz & Stegun 16.4 in float64.

    **Returns:** `(sn, cn, dn)`, broadcast over `u` and `m`.
    """
    u, m = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(m, np.float64))
    a, b, c = np.ones_like(m), np.sqrt(1.0 - m), np.sqrt(m)
    ratios = []
    for _ in range(64):
        a, b, c = (a + b) / 2, np.sqrt(a * b), (a - b) / 2
        ratios.append(c / a)
        if np.all(np.abs(c) <= 1e-17):
            break
    phi = 2.0 ** len(ratios) * a * u
    for r in reversed(ratios):
        phi = (phi + np.arcsin(np.clip(r * np.sin(phi), -1.0, 1.0))) / 2
    sn, cn = np.asarray(np.sin(phi)), np.asarray(np.cos(phi))
    return sn, cn, np.asarray(np.sqrt(1.0 - m * sn**2))
