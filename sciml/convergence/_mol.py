r"""Method-of-lines models and exact linear operators to calibrate them.

A method-of-lines (MOL) model is a learned spatial operator $F_\theta(u)$ on a grid
used as the right-hand side $\dot u = F_\theta(u)$ of an ODE in time. Refining it in
time is the same test as for an ODE-Net (`sciml.convergence.test` accepts states of
any shape). `PeriodicStencil` gives translation-invariant linear operators on a
periodic grid (finite-difference heat and advection) whose semi-discrete flow is
exact through the FFT, and `FourierMultiplier` the exact one-step map divided by the
step, the discrete-map field of `specs/convergence.md` §6 for a PDE.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree, Real


class MethodOfLines(eqx.Module):
    r"""Wrap a spatial operator $u \mapsto F(u)$ as the vector field
    $f(t, u, \text{args}) = F(u)$ of the semi-discrete system $\dot u = F(u)$.

    **Arguments:**

    - `operator`: a callable (e.g. an equinox module such as a small convolutional
      net or an FNO) mapping one field `(C, *grid)` to its time derivative of the
      same shape.
    """

    operator: Callable

    def __call__(
        self, t: Real[ArrayLike, ""], u: Float[Array, "..."], args: PyTree
    ) -> Float[Array, "..."]:
        """$F(u)$, independent of `t` and `args`."""
        del t, args
        du = self.operator(u)
        if du.shape != u.shape:
            raise ValueError(
                f"MethodOfLines: the operator maps a field of shape {u.shape} to "
                f"{du.shape}; it must return du/dt of the field's shape."
            )
        return du


class PeriodicStencil(eqx.Module):
    r"""A linear, translation-invariant operator on a periodic grid along the last
    axis: $(Lu)_i = \sum_j c_j u_{i + o_j}$.

    Its Fourier symbol is $\lambda_k = \sum_j c_j e^{2\pi i k o_j / n}$, so the
    semi-discrete flow is exact: $\hat u_k(t) = e^{\lambda_k t}\hat u_k(0)$.

    **Arguments:**

    - `offsets`: the integer offsets $o_j$.
    - `coefficients`: the weights $c_j$.
    """

    offsets: tuple[int, ...] = eqx.field(static=True)
    coefficients: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, offsets: Sequence[int], coefficients: Sequence[float | int]):
        offsets = tuple(int(o) for o in offsets)
        coefficients = tuple(float(c) for c in coefficients)
        if len(offsets) != len(coefficients) or not offsets:
            raise ValueError(
                f"PeriodicStencil needs as many offsets as coefficients (>= 1), got "
                f"{len(offsets)} and {len(coefficients)}."
            )
        self.offsets, self.coefficients = offsets, coefficients

    @classmethod
    def heat(cls, n: int, nu: float | int = 0.1, length: float | int = 2 * np.pi):
        r"""Second-order central differences for $u_t = \nu u_{xx}$ on `n` points."""
        dx = length / n
        c = nu / dx**2
        return cls((-1, 0, 1), (c, -2 * c, c))

    @classmethod
    def advection(
        cls, n: int, speed: float | int = 1.0, length: float | int = 2 * np.pi
    ):
        r"""Second-order central differences for $u_t + a u_x = 0$ on `n` points."""
        dx = length / n
        c = speed / (2 * dx)
        return cls((-1, 1), (c, -c))

    def __call__(self, u: Float[Array, "*channels X"]) -> Float[Array, "*channels X"]:
        """Apply the stencil along the last axis."""
        return sum(c * jnp.roll(u, -o, axis=-1) for o, c in zip(self.offsets, self.coefficients, strict=True))  # fmt: skip

    def eigenvalues(self, n: int) -> np.ndarray:
        """The symbol $\\lambda_k$, $k = 0, \\dots, n-1$ (numpy's FFT order)."""
        k = np.arange(n)
        return sum(
            c * np.exp(2j * np.pi * k * o / n)
            for o, c in zip(self.offsets, self.coefficients, strict=True)
        )

    def flow(self, u0s: ArrayLike, t: float | int) -> np.ndarray:
        """The exact semi-discrete solution at time `t` from fields `u0s` (float64,
        any leading axes; the grid is the last axis)."""
        u0s = np.asarray(u0s, dtype=np.float64)
        lam = self.eigenvalues(u0s.shape[-1])
        return np.real(np.fft.ifft(np.exp(lam * t) * np.fft.fft(u0s, axis=-1), axis=-1))

    def discrete_map(self, dt: float | int, n: int) -> "FourierMultiplier":
        r"""The field $\tilde F = (e^{L\,\Delta t} - I)/\Delta t$: forward Euler with
        step `dt` reproduces the exact flow, finer steps converge to the wrong one."""
        lam = self.eigenvalues(n)
        return FourierMultiplier(np.expm1(lam * dt) / dt)


class FourierMultiplier(eqx.Module):
    r"""A linear operator diagonal in Fourier space on a periodic grid of fixed size:
    $u \mapsto \mathcal F^{-1}(m_k \hat u_k)$ along the last axis.

    **Arguments:**

    - `multipliers`: complex $m_k$, $k = 0, \dots, n-1$ in numpy's FFT order.
    """

    real: np.ndarray
    imag: np.ndarray

    def __init__(self, multipliers: ArrayLike):
        m = np.asarray(multipliers, dtype=np.complex128).reshape(-1)
        self.real, self.imag = m.real.copy(), m.imag.copy()

    def __call__(self, u: Float[Array, "*channels X"]) -> Float[Array, "*channels X"]:
        if u.shape[-1] != self.real.shape[0]:
            raise ValueError(
                f"FourierMultiplier is defined on {self.real.shape[0]} points, got a "
                f"field of shape {u.shape}."
            )
        m = jnp.asarray(self.real, u.dtype) + 1j * jnp.asarray(self.imag, u.dtype)
        return jnp.real(jnp.fft.ifft(m * jnp.fft.fft(u, axis=-1), axis=-1)).astype(
            u.dtype
        )
