r"""1-D diffusion-sorption $u_t = D/R(u)\,u_{xx}$ (PDEBench, Takamoto et al., NeurIPS
2022; spec pdebench.md §3), by the method of lines with an implicit stiff solver.

$R(u) = 1 + \frac{1-\phi}{\phi}\rho_s k_f n_f\, u^{n_f - 1}$ with $u$ clamped at
$\ge 10^{-6}$ inside $R$ ($u^{n_f-1}$ blows up at 0; PDEBench adds $10^{-6}$), on
$x \in (0, 1)$.

Boundary conditions. The spec and the PDEBench paper write $u(0,t) = 1$ and
$u(1,t) = D\,u_x(1,t)$; PDEBench's code however sets the right ghost value to
$D(u_{N-2} - u_{N-1})/\Delta x = -D u_x$, i.e. $u(1,t) = -D\,u_x(1,t)$, an outflow
(Robin) condition. The literal sign is ill-posed: it has a mode growing like
$e^{t/(D R)}$ localised within $D$ of $x = 1$. So the code's sign is used ([U]
resolved, [D]). Two discretisations (`boundary`):

- `"face"` (default [D]): the conditions hold on the boundary faces, $u = 1$ at
  $x = 0$ (ghost $2 - u_0$) and $u = -D u_x$ at $x = 1$ (ghost $u_{N-1}(2D - \Delta x)
  /(2D + \Delta x)$); second order in space (measured in the tests).
- `"pdebench"`: PDEBench's ghost values, 1 on the left and $D(u_{N-2} -
  u_{N-1})/\Delta x$ on the right, placed one cell outside (first order).

Time integration ([D], spec recipe): diffrax `Kvaerno5` (L-stable ESDIRK, order 5)
with a PID step-size controller, `rtol` $10^{-6}$, `atol` $10^{-9}$ in float64
(the generator's precision); in float32, whose rounding is $6\cdot10^{-8}$, an
`atol` of $10^{-9}$ cannot be met and the solve fails, so float32 defaults to `rtol`
$10^{-5}$, `atol` $10^{-7}$ (measured: within $10^{-6}$ of a float64 solve at
`rtol` $10^{-10}$, 256 cells, $t = 500$). The Newton
systems $I - \gamma h J$ of a 3-point stencil are tridiagonal: the Jacobian is
assembled from three JVPs (columns coloured modulo 3) and solved by the tridiagonal
algorithm in $O(N)$, which keeps 1024 cells cheap enough to `vmap` over samples (a
dense LU of $1024^2$ per step would not be).
"""

from typing import Any, ClassVar, Literal

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import Solution, as_real
from ._grid import Grid

CLAMP = 1e-6
BOUNDARIES = ("face", "pdebench")
TOLERANCES = {np.dtype("float64"): (1e-6, 1e-9), np.dtype("float32"): (1e-5, 1e-7)}


class ColouredTridiagonal(lx.AbstractLinearSolver):
    """Solve with an operator known to be tridiagonal (not tagged so), for 1-D arrays.

    `init` recovers the three diagonals from three matrix-vector products with the
    columns coloured modulo 3; `compute` uses `jax.lax.linalg.tridiagonal_solve`.
    Used as diffrax's Newton linear solver for 3-point-stencil method-of-lines.
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        struct = operator.in_structure()
        n = struct.shape[0]
        colours = jnp.arange(n) % 3
        cols = [operator.mv((colours == c).astype(struct.dtype)) for c in range(3)]
        stacked = jnp.stack(cols)  # (3, n): row i of colour c
        idx = jnp.arange(n)
        diag = stacked[colours, idx]
        upper = stacked[colours[1:], idx[:-1]]  # A[i, i+1]
        lower = stacked[colours[:-1], idx[1:]]  # A[i+1, i]
        return diag, lower, upper

    def compute(self, state, vector, options):
        del options
        diag, lower, upper = state
        zero = jnp.zeros((1,), diag.dtype)
        solution = jax.lax.linalg.tridiagonal_solve(
            jnp.concatenate([zero, lower]),
            diag,
            jnp.concatenate([upper, zero]),
            vector[:, None],
        )[:, 0]
        return solution, lx.RESULTS.successful, {}

    def transpose(self, state, options):
        diag, lower, upper = state
        return (diag, upper, lower), options

    def conj(self, state, options):
        return state, options

    def assume_full_rank(self):
        return True


class DiffusionSorption(eqx.Module):
    r"""The method-of-lines solver of $u_t = D/R(u)\,u_{xx}$ on $(0, 1)$ with
    $u(0, t) = 1$ and $u(1, t) = -D u_x(1, t)$ (module docstring).

    `solver.solve(u0, ts)` integrates one field `(1, X)` with Kvaerno5 and a PID
    controller; `solver.rhs(u)` is the semi-discrete right-hand side. The PDE
    parameters are array leaves (jit, vmap and differentiate through them).

    **Arguments:**

    - `grid`: a 1-D `Grid` of cells on $(0, 1)$ (at least three).
    - `d`, `phi`, `rho_s`, `k_f`, `n_f`: $D > 0$, porosity $\phi \in (0, 1)$,
        $\rho_s \ge 0$, $k_f \ge 0$, $n_f > 0$ (PDEBench: $5\cdot10^{-4}$, 0.29, 2880,
        $3.5\cdot10^{-4}$, 0.874).
    - `boundary`: `"face"` (second order, default) or `"pdebench"`.
    - `rtol`, `atol`: the step-size controller's tolerances; `None` (default) takes
        them by the dtype of `u0` (`TOLERANCES`: $10^{-6}, 10^{-9}$ in float64,
        $10^{-5}, 10^{-7}$ in float32).
    - `max_steps`: the step cap.
    """

    TOLERANCES: ClassVar[dict[np.dtype, tuple[float, float]]] = TOLERANCES

    grid: Grid
    d: Float[Array, ""]
    phi: Float[Array, ""]
    rho_s: Float[Array, ""]
    k_f: Float[Array, ""]
    n_f: Float[Array, ""]
    boundary: Literal["face", "pdebench"] = eqx.field(static=True)
    rtol: float | int | None = eqx.field(static=True)
    atol: float | int | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        d: Float[ArrayLike, ""] = 5e-4,
        phi: Float[ArrayLike, ""] = 0.29,
        rho_s: Float[ArrayLike, ""] = 2880.0,
        k_f: Float[ArrayLike, ""] = 3.5e-4,
        n_f: Float[ArrayLike, ""] = 0.874,
        *,
        boundary: Literal["face", "pdebench"] = "face",
        rtol: float | int | None = None,
        atol: float | int | None = None,
        max_steps: int = 100_000,
    ):
        owner = "DiffusionSorption"
        if not isinstance(grid, Grid) or grid.ndim != 1 or grid.shape[0] < 3:
            raise ValueError(f"{owner} needs a 1-D Grid of >= 3 cells, got {grid!r}.")
        self.grid = grid
        self.d, self.phi, self.rho_s = as_real(d), as_real(phi), as_real(rho_s)
        self.k_f, self.n_f = as_real(k_f), as_real(n_f)
        self.boundary = _checks.choice("boundary", boundary, BOUNDARIES, owner=owner)
        self.rtol = (
            None if rtol is None else _checks.real("rtol", rtol, above=0.0, owner=owner)
        )
        self.atol = (
            None if atol is None else _checks.real("atol", atol, above=0.0, owner=owner)
        )
        self.max_steps = _checks.integer("max_steps", max_steps, minimum=1, owner=owner)

    def retardation(self, u: Array) -> Array:
        r"""$R(u) = 1 + (1-\phi)/\phi\,\rho_s k_f n_f \max(u, 10^{-6})^{n_f - 1}$."""
        coefficient = (1.0 - self.phi) / self.phi * self.rho_s * self.k_f * self.n_f
        return 1.0 + coefficient * jnp.maximum(u, CLAMP) ** (self.n_f - 1.0)

    def rhs(self, u: Float[Array, "... X"]) -> Float[Array, "... X"]:
        r"""$D/R(u)\,\delta^2 u/\Delta x^2$ with the boundary ghosts of `boundary`."""
        dx, d = self.grid.spacing[0], self.d
        if self.boundary == "face":
            left = 2.0 - u[..., :1]
            right = u[..., -1:] * (2.0 * d - dx) / (2.0 * d + dx)
        else:
            left = jnp.ones_like(u[..., :1])
            right = d * (u[..., -2:-1] - u[..., -1:]) / dx
        padded = jnp.concatenate([left, u, right], axis=-1)
        lap = (padded[..., :-2] - 2.0 * u + padded[..., 2:]) / dx**2
        return d / self.retardation(u) * lap

    def solve(self, u0: Float[Array, "1 X"], ts: Float[Array, " T"]) -> Solution:
        r"""Integrate from `u0` at `ts[0]` and save at the times `ts`.

        **Arguments:**

        - `u0`: the initial field `(1, X)` at the cell centres.
        - `ts`: increasing save times; `ts[0]` is the initial time (saved as `u0`).

        **Returns:**

        A `Solution`: `ys` `(T, 1, X)` and whether diffrax reported success.
        """
        self.grid.check_field(u0, "DiffusionSorption", channels=1)
        rtol, atol = TOLERANCES[np.dtype(u0.dtype)]
        rtol = rtol if self.rtol is None else self.rtol
        atol = atol if self.atol is None else self.atol
        root_finder = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)(
            linear_solver=ColouredTridiagonal()
        )
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, u, args: self.rhs(u)),
            diffrax.Kvaerno5(root_finder=root_finder),
            t0=ts[0],
            t1=ts[-1],
            dt0=1e-3 * (ts[-1] - ts[0]) / ts.shape[0],
            y0=u0[0],
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=self.max_steps,
            throw=False,
        )
        ok = solution.result == diffrax.RESULTS.successful
        return Solution(solution.ys[:, None, :], ok)
