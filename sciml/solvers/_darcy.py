r"""2-D steady Darcy flow $-\nabla\cdot(a \nabla u) = \beta$ on a square, $u = 0$ on the
boundary, solved directly (PDEBench, Takamoto et al., NeurIPS 2022; spec pdebench.md
§3).

Discretisation: cell-centred finite volumes on an $n \times n$ grid ($h = 1/n$ on the
unit square), the 5-point flux form with face diffusivity the arithmetic mean of the
two neighbouring cells. The boundary condition ([D], `boundary`):

- `"face"` (default): $u = 0$ *on the boundary faces*: the boundary flux is
  $a_b (u_b - 0)/(h/2)$ (ghost value $-u_b$). Second-order accurate (the
  manufactured test measures the order).
- `"pdebench"`: PDEBench's pseudo-time code, a ghost value 0 one cell outside
  (flux $a_b u_b / h$), i.e. $u = 0$ half a cell beyond the boundary; first order.
  Which diffusivity PDEBench gives the boundary face is [U]; the boundary cell's
  own $a_b$ is used in both modes.

PDEBench reaches the steady state by running pseudo-time to $t = 2$, where a few
percent of the slowest transient may remain ([U] in the spec); here the linear
system is solved with preconditioned conjugate gradients (it is symmetric positive
definite). The preconditioner is the exact inverse of the constant-coefficient
operator, applied through the eigendecomposition of the 1-D second-difference
matrix (two dense $n \times n$ products each way): with $a \in [a_{\min}, a_{\max}]$
the preconditioned condition number is at most $a_{\max}/a_{\min}$ (10 for the
binary permeability), so CG needs a few dozen iterations instead of thousands.
"""

from typing import ClassVar, Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import as_real
from ._grid import Grid

BOUNDARIES = ("face", "pdebench")
RTOL = {np.dtype("float64"): 1e-10, np.dtype("float32"): 1e-5}


def _boundary_weight(boundary: str) -> float:
    return {"face": 2.0, "pdebench": 1.0}[boundary]


def _face_weights(a: Float[Array, "X Y"], weight: float | int) -> tuple[Array, Array]:
    """Face diffusivities (arithmetic means; boundary faces get `weight * a_b`)."""
    inner_x = 0.5 * (a[1:, :] + a[:-1, :])
    ax = jnp.concatenate([weight * a[:1, :], inner_x, weight * a[-1:, :]], axis=0)
    inner_y = 0.5 * (a[:, 1:] + a[:, :-1])
    ay = jnp.concatenate([weight * a[:, :1], inner_y, weight * a[:, -1:]], axis=1)
    return ax, ay


def _apply(
    u: Float[Array, "X Y"],
    ax: Float[Array, "X1 Y"],
    ay: Float[Array, "X Y1"],
    h: float | int,
) -> Float[Array, "X Y"]:
    r"""$-\nabla\cdot(a\nabla u)$ on cell centres (ghost values 0)."""
    up = jnp.pad(u, 1)
    fx = ax * (up[1:, 1:-1] - up[:-1, 1:-1])
    fy = ay * (up[1:-1, 1:] - up[1:-1, :-1])
    return -((fx[1:, :] - fx[:-1, :]) + (fy[:, 1:] - fy[:, :-1])) / h**2


def laplacian_eigen(
    n: int, h: float | int, boundary: str
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of the 1-D matrix $-d^2/dx^2$ of this scheme."""
    weight = _boundary_weight(boundary)
    matrix = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    matrix[0, 0] = matrix[-1, -1] = 1.0 + weight
    values, vectors = np.linalg.eigh(matrix / h**2)
    return values, vectors


class DarcySolution(NamedTuple):
    """What `Darcy.solve` returns.

    **Arguments:**

    - `u`: the pressure field `(1, X, X)`.
    - `residual`: the relative residual $\\|f - A u\\|_2 / \\|f\\|_2$, recomputed from `u`.
        In float32 it cannot fall much below $\\varepsilon\\,\\kappa(A)$ even when `u`
        is accurate: rounding `u` to float32 alone leaves a residual of about
        $5\\cdot10^{-4}$ at 128 x 128 (measured: CG stops at its `rtol` of
        $10^{-5}$, the solution is within $10^{-7}$ of a float64 solve, and the
        residual of that float32 solution is $4.6\\cdot10^{-4}$).
    """

    u: Float[Array, "1 X X"]
    residual: Float[Array, ""]


class Darcy(eqx.Module):
    r"""The steady solver of $-\nabla\cdot(a \nabla u) = \beta$, $u = 0$ on the boundary,
    on a square grid of cells (module docstring).

    `solver.solve(a)` maps one permeability field `(1, X, X)` to the pressure
    `(1, X, X)` by preconditioned conjugate gradients, stopped when CG's own
    residual falls to `rtol` ($10^{-10}$ in float64, $10^{-5}$ in float32 by default;
    the residual of the returned, rounded solution is larger in float32, see
    `DarcySolution`). It jits, vmaps over
    permeabilities and differentiates (CG is a linear solve with an implicit
    derivative).

    **Arguments:**

    - `grid`: a square 2-D `Grid` of cells (PDEBench: `Grid((128, 128))`).
    - `beta`: the constant source $\beta$.
    - `boundary`: `"face"` (second order, default) or `"pdebench"`.
    - `rtol`: CG's relative tolerance (default by dtype, above).
    - `maxiter`: CG's iteration cap.
    """

    RTOL: ClassVar[dict[np.dtype, float]] = RTOL
    """CG's default relative tolerance by dtype."""

    grid: Grid
    beta: Float[Array, ""]
    eig_values: np.ndarray
    eig_vectors: np.ndarray
    boundary: Literal["face", "pdebench"] = eqx.field(static=True)
    rtol: float | int | None = eqx.field(static=True)
    maxiter: int = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        beta: Float[ArrayLike, ""] = 1.0,
        *,
        boundary: Literal["face", "pdebench"] = "face",
        rtol: float | int | None = None,
        maxiter: int = 5000,
    ):
        owner = "Darcy"
        n = grid.shape[0] if isinstance(grid, Grid) else 0
        if not isinstance(grid, Grid) or grid.shape != (n, n) or n < 2:
            raise ValueError(f"{owner} needs a square 2-D Grid of cells, got {grid!r}.")
        if grid.points != "cells" or len(set(grid.spacing)) != 1:
            raise ValueError(f"{owner} needs square cells, got {grid!r}.")
        self.grid = grid
        self.beta = as_real(beta)
        self.boundary = _checks.choice("boundary", boundary, BOUNDARIES, owner=owner)
        self.rtol = (
            None if rtol is None else _checks.real("rtol", rtol, above=0.0, owner=owner)
        )
        self.maxiter = _checks.integer("maxiter", maxiter, minimum=1, owner=owner)
        self.eig_values, self.eig_vectors = laplacian_eigen(
            n, grid.spacing[0], self.boundary
        )

    def operator(self, a: Float[Array, "1 X X"]):
        r"""$u \mapsto -\nabla_h\cdot(a\nabla_h u)$ for fields `(X, X)`."""
        ax, ay = _face_weights(a[0], _boundary_weight(self.boundary))
        h = self.grid.spacing[0]
        return lambda u: _apply(u, ax, ay, h)

    def solve(self, a: Float[Array, "1 X X"]) -> DarcySolution:
        """Solve for the pressure of one positive permeability field `a` `(1, X, X)`."""
        self.grid.check_field(a, "Darcy", channels=1)
        operator = self.operator(a)
        f = jnp.full_like(a[0], self.beta)
        eig_vectors = jnp.asarray(self.eig_vectors, a.dtype)
        eig_values = jnp.asarray(self.eig_values, a.dtype)
        scale = jnp.mean(a[0])
        denom = eig_values[:, None] + eig_values[None, :]

        def preconditioner(r):
            spectral = eig_vectors.T @ r @ eig_vectors
            return eig_vectors @ (spectral / denom) @ eig_vectors.T / scale

        rtol = self.rtol if self.rtol is not None else RTOL[np.dtype(a.dtype)]
        u, _ = jax.scipy.sparse.linalg.cg(
            operator, f, tol=rtol, atol=0.0, maxiter=self.maxiter, M=preconditioner
        )
        residual = jnp.linalg.norm(f - operator(u)) / jnp.linalg.norm(f)
        return DarcySolution(u[None], residual)
