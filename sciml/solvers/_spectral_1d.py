r"""What the periodic 1-D Fourier steppers share: pseudo-spectral collocation in
space, ETDRK4 in time, and the Fourier interpolation of their frames onto a finer
grid.

A subclass states its PDE as $u_t = \mathcal L u + m(\partial_x) f(u)$:

- `linear(k)`: the symbol $L(k)$ of the linear part $\mathcal L$ at the angular
  wavenumbers $k_m = 2\pi m/L$, $m = 0 .. N/2$ (real for diffusion and reaction,
  imaginary for advection), integrated exactly;
- `nonlinear(u)`: the pointwise term $f(u)$ on the grid (not overridden: the PDE
  is linear, and a step is the exact $\hat u \leftarrow e^{hL}\hat u$);
- `multiplier(k)`: the Fourier multiplier $m(k)$ applied to $\widehat{f(u)}$ (1 by
  default; $-ik/2$ for Burgers' $-(u^2/2)_x$);
- `dealias`: whether the product is de-aliased by the 2/3 rule (Orszag, J. Atmos.
  Sci. 28, 1971): the modes $|m| > N/3$ of $\widehat{f(u)}$ are zeroed, which for a
  quadratic $f$ removes the aliasing error entirely.

The state is advanced in Fourier space, $\hat u_t = L\hat u + m\,D\,\widehat{f(u)}$
($D$ the de-aliasing mask), by ETDRK4 (`sciml.solvers._etdrk`); one step costs four
evaluations of $f$, each one inverse and one forward real FFT.

The grid may be the nodes $x_j = a + jL/N$ or the cell centres $x_j = a + (j +
\tfrac12)L/N$ (PDEBench's files): the discrete Fourier transform does not see the
offset, which only enters the interpolation onto another grid (`resample`).
"""

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Inexact

from .. import _checks
from ._base import AbstractStepper, as_real, frames
from ._etdrk import etdrk4_coefficients, etdrk4_step
from ._grid import Grid


def check_periodic_grid(grid, owner: str, *, nodes_only: bool = False) -> None:
    """A 1-D `Grid` of an even number >= 4 of points (nodes only, if asked)."""
    n = grid.shape[0] if isinstance(grid, Grid) else 0
    if (
        not isinstance(grid, Grid)
        or grid.ndim != 1
        or n % 2
        or n < 4
        or (nodes_only and grid.points != "nodes")
    ):
        kind = "nodes" if nodes_only else "points (nodes or cells)"
        raise ValueError(
            f"{owner} needs a 1-D periodic Grid of an even number >= 4 of {kind}, "
            f'e.g. Grid(1024, 0.0, 1.0, points="nodes"); got {grid!r}.'
        )


def spectral_arguments(
    owner: str,
    grid: Grid,
    dt: Any,
    contour_points: int | None = None,
    *,
    nodes_only: bool = False,
) -> tuple[Grid, Float[Array, ""], int | None]:
    """The arguments every Fourier stepper checks: a periodic grid, a step $> 0$ (as
    an array leaf) and, for a nonlinear PDE, the contour points ($\\ge 4$)."""
    check_periodic_grid(grid, owner, nodes_only=nodes_only)
    if _checks.is_real(dt):
        _checks.real("dt", dt, above=0.0, owner=owner)
    if contour_points is not None:
        contour_points = _checks.integer(
            "contour_points", contour_points, minimum=4, owner=owner
        )
    return grid, as_real(dt), contour_points


def wavenumbers(grid: Grid, dtype=None) -> Float[Array, " K"]:
    """The angular wavenumbers $k_m = 2\\pi m/L$, $m = 0 .. N/2$, of the rfft on `grid`."""
    n, length = grid.shape[0], grid.lengths[0]
    k = 2 * np.pi * np.fft.rfftfreq(n, length / n)
    return jnp.asarray(k, dtype=dtype or jnp.result_type(float))


def resample(
    v: Inexact[Array, "... K"], grid: Grid, points: int
) -> Float[Array, "... P"]:
    r"""The trigonometric interpolant of a field, given by its rfft `v` on `grid`,
    at the `points` points of the same kind (nodes or cells) on the same interval.

    The interpolant $u(x) = \tfrac1N \sum_m \hat u_m e^{ik_m(x - x_0)}$ ($x_0$ the
    first point of `grid`) is evaluated at the points $x'_j$ by shifting each
    mode's phase by $k_m(x'_0 - x_0)$ and transforming back on $P$ points, scaled
    by $P/N$. Onto more points ($P > N$) the spectrum is padded with zeros, and the
    Nyquist mode of an even $N$ is shared equally between $\pm N/2$, as the real
    interpolant has it: exact for the band-limited field a spectral scheme
    computes. Onto fewer ($P < N$) the modes $|m| \ge P/2$ are dropped: the
    truncated Fourier series, which, unlike sampling on the $P$ points, aliases
    nothing.

    **Arguments:**

    - `v`: the rfft over the last axis of samples on `grid`, `(..., N/2 + 1)`.
    - `grid`: the 1-D grid of the samples, $N$ points.
    - `points`: $P \ge 2$.

    **Returns:**

    The field at the $P$ points, `(..., P)`.
    """
    n = grid.shape[0]
    points = _checks.integer("points", points, minimum=2, owner="resample")
    if points == n:
        return jnp.fft.irfft(v, n=n, axis=-1)
    real_dtype = jnp.real(v).dtype
    k = wavenumbers(grid, real_dtype)
    offset = 0.5 if grid.points == "cells" else 0.0
    shift = offset * grid.lengths[0] * (1 / points - 1 / n)  # x'_0 - x_0
    weights = np.ones(n // 2 + 1)
    if n % 2 == 0:
        weights[-1] = 0.5
    weights[np.arange(n // 2 + 1) >= points / 2] = 0.0  # P < N: drop |m| >= P/2
    v = v * jnp.asarray(weights, real_dtype) * jnp.exp(1j * shift * k)
    size = points // 2 + 1
    if size > v.shape[-1]:
        v = jnp.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, size - v.shape[-1])])
    return jnp.fft.irfft(v[..., :size], n=points, axis=-1) * (points / n)


class AbstractSpectralStepper1D(AbstractStepper):
    r"""One ETDRK4 step of the Fourier pseudo-spectral discretisation of
    $u_t = \mathcal L u + m(\partial_x) f(u)$ on a periodic 1-D grid (module
    docstring): a subclass gives `linear`, `nonlinear`, `multiplier` and `dealias`.

    `stepper(u)` maps a field `(C, N)` (each channel its own solution) to the next;
    `stepper.trajectory(u0, n_frames, substeps)` computes the coefficients once and
    steps in Fourier space, and with `output_points=P` returns its frames
    interpolated onto $P$ points (`resample`): a spectral solve on a coarse grid
    written at a file's resolution.
    """

    grid: eqx.AbstractVar[Grid]
    dt: eqx.AbstractVar[Float[Array, ""]]
    dealias: eqx.AbstractClassVar[bool]
    # a nonlinear PDE also holds `contour_points` (static), the points of ETDRK4's
    # contour means; a linear one needs none

    @abc.abstractmethod
    def linear(self, k: Float[Array, " K"]) -> Inexact[Array, " K"]:
        """The symbol $L(k)$ of the linear part at the wavenumbers `k`."""

    def nonlinear(self, u: Float[Array, "C N"]) -> Float[Array, "C N"]:
        """The pointwise term $f(u)$; a subclass that does not override it is a
        linear PDE, stepped by the exact exponential."""
        return jnp.zeros_like(u)

    def multiplier(self, k: Float[Array, " K"]) -> Inexact[Array, " K"]:
        """The multiplier $m(k)$ of $\\widehat{f(u)}$ (default 1)."""
        return jnp.ones_like(k)

    def wavenumbers(self, dtype=None) -> Float[Array, " K"]:
        """The angular wavenumbers $k_m = 2\\pi m/L$, $m = 0 .. N/2$, of the rfft."""
        return wavenumbers(self.grid, dtype)

    def _linear_pde(self) -> bool:
        return type(self).nonlinear is AbstractSpectralStepper1D.nonlinear

    def _operators(self, dtype):
        """The ETDRK4 coefficients and the nonlinear term's multiplier (with the
        de-aliasing mask), in the arithmetic of fields of `dtype`."""
        k = self.wavenumbers(dtype)
        h = self.dt.astype(dtype)
        symbol = self.linear(k)
        symbol = symbol.astype(jnp.result_type(symbol.dtype, dtype))
        if self._linear_pde():
            return (jnp.exp(h * symbol),), None
        coefficients = etdrk4_coefficients(h * symbol, h, self.contour_points)
        multiplier = self.multiplier(k)
        if self.dealias:
            n = self.grid.shape[0]
            mask = jnp.asarray(np.arange(n // 2 + 1) <= n // 3, dtype)
            multiplier = multiplier * mask
        return coefficients, multiplier

    def _step(self, v: Array, operators) -> Array:
        coefficients, multiplier = operators
        n = self.grid.shape[0]
        if self._linear_pde():
            return coefficients[0] * v  # the exact exponential

        def term(w):
            f = self.nonlinear(jnp.fft.irfft(w, n=n, axis=-1))
            return multiplier * jnp.fft.rfft(f, axis=-1)

        return etdrk4_step(v, coefficients, term)

    def __call__(self, u: Float[Array, "C N"]) -> Float[Array, "C N"]:
        """One ETDRK4 step of size `dt` from the field `u`, shape `(C, N)`."""
        self.grid.check_field(u, type(self).__name__)
        v = self._step(jnp.fft.rfft(u, axis=-1), self._operators(u.dtype))
        return jnp.fft.irfft(v, n=self.grid.shape[0], axis=-1)

    def trajectory(
        self,
        u0: Float[Array, "C N"],
        n_frames: int,
        substeps: int = 1,
        *,
        output_points: int | None = None,
    ) -> Float[Array, "T C P"]:
        """The frames $u(k\\,m\\,\\Delta t)$, $k = 0 .. n - 1$, as
        `AbstractStepper.trajectory`, with the coefficients computed once and the
        steps taken in Fourier space (equal to repeated `stepper(u)` to round-off).

        **Arguments:**

        - `u0`: the initial field `(C, N)`.
        - `n_frames`: frames returned, including `u0` (static).
        - `substeps`: steps between two frames (static).
        - `output_points`: $P \\ge N$ points of the same kind on the same interval
            to interpolate the frames onto (`resample`; static); default $N$.

        **Returns:**

        The frames, shape `(n_frames, C, P)`; frame 0 is `u0` as given when
        $P = N$, and its interpolant otherwise.
        """
        self.grid.check_field(u0, type(self).__name__)
        operators = self._operators(u0.dtype)
        n = self.grid.shape[0]
        points = n if output_points is None else output_points
        first = (
            None
            if points == n
            else resample(jnp.fft.rfft(u0, axis=-1), self.grid, points)
        )
        return frames(
            lambda v: self._step(v, operators),
            u0,
            n_frames,
            substeps,
            forward=lambda u: jnp.fft.rfft(u, axis=-1),
            backward=lambda v: resample(v, self.grid, points),
            first=first,
        )
