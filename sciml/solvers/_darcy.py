r"""2-D steady Darcy flow $-\nabla\cdot(a \nabla u) = \beta$ on a square, $u = 0$ on the
boundary, solved directly (PDEBench, Takamoto et al., NeurIPS 2022; spec pdebench.md
§3), or on a sub-domain of it given by a mask of cells (MT-DeepONet's geometries,
Kumar et al. 2024; spec deeponet.md §5.2).

Discretisation: cell-centred finite volumes on an $n \times n$ grid of the grid's
square box ($h = 1/n$ on the unit square, $h = 2/n$ on $[-1, 1]^2$), the 5-point
flux form with face diffusivity the arithmetic mean of the two neighbouring cells.
The boundary condition ([D], `boundary`):

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

A geometry (`mask`, `True` in the cells of $\Omega_g$) removes the cells outside
$\Omega_g$: the unknowns are the inside cells, and a face between an inside and an
outside cell is a boundary face with $u = 0$ on it, treated exactly as a face of the
box (`"face"`: flux $2 a_b u_b / h$, second order where the cell faces follow the
boundary; `"pdebench"`: $a_b u_b / h$). A curved boundary is taken as the staircase
of its cells' faces, so there the error falls at first order only (measured on the
circle: 0.9). So that CG still applies, the operator on
the whole grid is that restricted operator on the inside cells and the identity on
the outside ones, $A_M = M A_{\Omega_g} M + (I - M)$: symmetric positive definite,
block diagonal, and with $f = 0$ outside the outside values stay exactly 0. The
preconditioner is masked the same way, $M P M + (I - M)$ with $P$ the box's
(a principal block of an SPD matrix, so SPD); with $\Omega_g$ a sub-domain of the
box it is no longer the inverse of the constant-coefficient operator: with $a = 1$
CG needs 20 to 35 iterations on the 100 x 100 geometries of `geometry_mask` instead
of 1 (growing about as $\sqrt n$: 14 to 25 at 50, 30 to 49 at 200), but on
lognormal permeabilities, where the contrast of $a$ dominates, it needs about as
many as the box (measured in float64 for five fields with $\ell = 0.2$,
$\sigma = 1$: 107 to 282 iterations on the geometries, 108 to 213 on the box).
"""

from typing import ClassVar, Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Shaped

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


def _masked_face_weights(
    a: Float[Array, "X Y"], mask: Bool[Array, "X Y"], weight: float | int
) -> tuple[Array, Array]:
    """Face diffusivities on the inside cells of `mask`: the arithmetic mean between
    two inside cells, `weight * a_b` on a face between an inside cell `b` and an
    outside one or the box, 0 between two outside cells."""
    inside = jnp.where(mask, a, 0.0)  # a on the inside cells, 0 outside
    both_x = mask[1:, :] & mask[:-1, :]
    inner_x = jnp.where(
        both_x,
        0.5 * (a[1:, :] + a[:-1, :]),
        weight * (inside[1:, :] + inside[:-1, :]),
    )
    ax = jnp.concatenate(
        [weight * inside[:1, :], inner_x, weight * inside[-1:, :]], axis=0
    )
    both_y = mask[:, 1:] & mask[:, :-1]
    inner_y = jnp.where(
        both_y,
        0.5 * (a[:, 1:] + a[:, :-1]),
        weight * (inside[:, 1:] + inside[:, :-1]),
    )
    ay = jnp.concatenate(
        [weight * inside[:, :1], inner_y, weight * inside[:, -1:]], axis=1
    )
    return ax, ay


def _check_mask(mask, shape: tuple[int, ...], owner: str):
    """`mask` as a bool array of the grid's `shape` (numpy when concrete); a mask
    only known under `jax.jit` is checked by `eqx.error_if`."""
    got = tuple(getattr(mask, "shape", ()))
    if not hasattr(mask, "shape") or got != shape:
        hint = " Pass mask[0] for a (1, X, X) array." if got == (1, *shape) else ""
        raise ValueError(
            f"{owner}: mask must be an array of the grid's shape {shape} (True or 1 "
            f"inside the geometry), got {got if hasattr(mask, 'shape') else mask!r}."
            + hint
        )
    if isinstance(mask, jax.core.Tracer):
        values = jnp.asarray(mask)
        binary = jnp.all((values == 0) | (values == 1))
        mask = values.astype(bool)
        return eqx.error_if(
            mask,
            ~binary | ~jnp.any(mask),
            f"{owner}: mask must hold only 0/1 (or False/True) values, with at least "
            "one cell inside.",
        )
    values = np.asarray(mask)
    if values.dtype != np.bool_:
        if not (
            np.issubdtype(values.dtype, np.integer)
            or np.issubdtype(values.dtype, np.floating)
        ):
            raise ValueError(
                f"{owner}: mask must be boolean or numeric 0/1, got dtype "
                f"{values.dtype}."
            )
        bad = ~((values == 0) | (values == 1))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{owner}: mask must be binary (0/1 or False/True), got the value "
                f"{values[where].item()!r} at {where}; threshold it, e.g. mask > 0.5."
            )
    values = values.astype(bool)
    if not values.any():
        raise ValueError(
            f"{owner}: mask has no cell inside (all False); the geometry must hold "
            "at least one cell, e.g. sciml.solvers.geometry_mask('circle', n)."
        )
    return values


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
    on a square grid of cells, or on the cells of a geometry inside it (`mask`;
    module docstring).

    `solver.solve(a)` maps one permeability field `(1, X, X)` to the pressure
    `(1, X, X)` (0 outside the mask) by preconditioned conjugate gradients, stopped when CG's own
    residual falls to `rtol` ($10^{-10}$ in float64, $10^{-5}$ in float32 by default;
    the residual of the returned, rounded solution is larger in float32, see
    `DarcySolution`). It jits, vmaps over
    permeabilities and differentiates (CG is a linear solve with an implicit
    derivative).

    **Arguments:**

    - `grid`: a square 2-D `Grid` of cells (PDEBench: `Grid((128, 128))`;
        MT-DeepONet: `Grid((100, 100), -1.0, 1.0)`).
    - `beta`: the constant source $\beta$ (inside the mask).
    - `boundary`: `"face"` (second order, default) or `"pdebench"`.
    - `rtol`: CG's relative tolerance (default by dtype, above).
    - `maxiter`: CG's iteration cap.
    - `mask`: `None` (the whole box, default) or the geometry, a binary array of the
        grid's shape `(X, X)` (bool, or numbers 0/1), true in at least one cell,
        e.g. `sciml.solvers.geometry_mask("circle", 100)`. The same mask with all
        cells inside gives the unmasked solution.
    """

    RTOL: ClassVar[dict[np.dtype, float]] = RTOL
    """CG's default relative tolerance by dtype."""

    grid: Grid
    beta: Float[Array, ""]
    eig_values: np.ndarray
    eig_vectors: np.ndarray
    mask: Bool[Array, "X X"] | np.ndarray | None
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
        mask: Shaped[ArrayLike, "X X"] | None = None,
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
        self.mask = None if mask is None else _check_mask(mask, grid.shape, owner)

    def operator(self, a: Float[Array, "1 X X"]):
        r"""$u \mapsto -\nabla_h\cdot(a\nabla_h u)$ for fields `(X, X)`; with a `mask`,
        that operator of the inside cells (outside values read as 0) on the inside
        cells and the identity on the outside ones (symmetric positive definite)."""
        weight = _boundary_weight(self.boundary)
        h = self.grid.spacing[0]
        if self.mask is None:
            ax, ay = _face_weights(a[0], weight)
            return lambda u: _apply(u, ax, ay, h)
        mask = jnp.asarray(self.mask)
        ax, ay = _masked_face_weights(a[0], mask, weight)
        return lambda u: jnp.where(mask, _apply(jnp.where(mask, u, 0.0), ax, ay, h), u)

    def solve(self, a: Float[Array, "1 X X"]) -> DarcySolution:
        """Solve for the pressure of one positive permeability field `a` `(1, X, X)`
        (only its values inside the mask matter; the pressure is 0 outside)."""
        self.grid.check_field(a, "Darcy", channels=1)
        operator = self.operator(a)
        mask = None if self.mask is None else jnp.asarray(self.mask)
        f = jnp.full_like(a[0], self.beta)
        eig_vectors = jnp.asarray(self.eig_vectors, a.dtype)
        eig_values = jnp.asarray(self.eig_values, a.dtype)
        if mask is None:
            scale = jnp.mean(a[0])
        else:
            f = jnp.where(mask, f, 0.0)
            scale = jnp.mean(a[0], where=mask)
        denom = eig_values[:, None] + eig_values[None, :]

        def box_preconditioner(r):
            spectral = eig_vectors.T @ r @ eig_vectors
            return eig_vectors @ (spectral / denom) @ eig_vectors.T / scale

        if mask is None:
            preconditioner = box_preconditioner
        else:

            def preconditioner(r):  # M P M + (I - M), as the operator
                return jnp.where(mask, box_preconditioner(jnp.where(mask, r, 0.0)), r)

        rtol = self.rtol if self.rtol is not None else RTOL[np.dtype(a.dtype)]
        u, _ = jax.scipy.sparse.linalg.cg(
            operator, f, tol=rtol, atol=0.0, maxiter=self.maxiter, M=preconditioner
        )
        if mask is not None:
            u = jnp.where(mask, u, 0.0)  # already 0 there; exact under any rounding
        residual = jnp.linalg.norm(f - operator(u)) / jnp.linalg.norm(f)
        return DarcySolution(u[None], residual)
