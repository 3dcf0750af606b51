r"""1-D linear advection $u_t + \beta u_x = 0$ on a periodic interval, by PDEBench's
finite-volume scheme (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §3)."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from . import _fv1d
from ._base import AbstractStepper, as_real
from ._grid import Grid


def check_fv_grid(grid: Grid, owner: str) -> None:
    """A 1-D grid of at least five cells (the stencil of the MUSCL scheme)."""
    if not isinstance(grid, Grid):
        raise TypeError(f"{owner}: grid must be a sciml.solvers.Grid, got {grid!r}.")
    if grid.ndim != 1 or grid.points != "cells" or grid.shape[0] < _fv1d.MIN_CELLS:
        raise ValueError(
            f"{owner} needs a 1-D grid of at least {_fv1d.MIN_CELLS} cells (the "
            f"finite-volume stencil spans five), e.g. Grid(1024); got {grid}."
        )


class Advection(AbstractStepper):
    r"""One step of PDEBench's finite-volume scheme for $u_t + \beta u_x = 0$,
    periodic.

    The shared MUSCL-MC predictor-corrector scheme (`sciml.solvers` module
    `_fv1d`) with the Rusanov flux
    $F = \tfrac12\beta(u^R_i + u^L_{i+1}) - \tfrac12|\beta|(u^L_{i+1} - u^R_i)$, i.e.
    with the factor $\tfrac12$ whose absence made PDEBench's pre-Aug-2023 files
    advect at $2\beta$ (issue #46). Second order in smooth regions (measured in the
    tests), total-variation diminishing at Courant numbers
    $|\beta|\Delta t/\Delta x \le 1/2$; PDEBench takes 0.4 (`max_dt`).

    **Arguments:**

    - `grid`: a 1-D `Grid` of cells (at least five), periodic.
    - `dt`: the step $\Delta t$.
    - `beta`: the speed $\beta$.

    `stepper(u)` maps a field `(C, X)` to the next one; `stepper.trajectory(u0, n,
    m)` keeps every $m$-th step.
    """

    grid: Grid
    dt: Float[Array, ""]
    beta: Float[Array, ""]
    dx: Float[Array, ""]

    def __init__(
        self, grid: Grid, dt: Float[ArrayLike, ""], beta: Float[ArrayLike, ""]
    ):
        check_fv_grid(grid, "Advection")
        self.grid = grid
        self.dt = as_real(dt)
        self.beta = as_real(beta)
        self.dx = as_real(grid.spacing[0])

    @staticmethod
    def max_dt(grid: Grid, beta: float | int, *, cfl: float | int = 0.4) -> float:
        r"""The largest step at Courant number `cfl`: $c\,\Delta x/|\beta|$ (`inf` for
        $\beta = 0$). PDEBench: $c = 0.4$."""
        beta = _checks.real("beta", beta, owner="Advection.max_dt")
        cfl = _checks.real("cfl", cfl, above=0.0, below=1.0, owner="Advection.max_dt")
        return cfl * grid.spacing[0] / abs(beta) if beta != 0 else float("inf")

    def flux(self) -> _fv1d.NumericalFlux:
        r"""The Rusanov flux of $f(u) = \beta u$ (upwind: $F = \beta u^R_i$ for
        $\beta > 0$)."""
        beta = self.beta
        return _fv1d.rusanov_flux(lambda u: beta * u, lambda a, b: jnp.abs(beta))

    def __call__(self, u: Float[Array, "C X"]) -> Float[Array, "C X"]:
        self.grid.check_field(u, "Advection")
        return _fv1d.predictor_corrector_step(u, self.dt, self.flux(), self.dx)
