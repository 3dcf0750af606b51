r"""2-D nonlinear (porous-medium) diffusion $u_t = c\,\Delta(u^2)$ with $u = 0$ on the
boundary: the PINN benchmark of PIG (spec pig.md §4, "Nonlinear diffusion (2+1)-D"),
with $c = 0.025$, i.e. $u_t = 0.05\,(u_x^2 + u u_{xx} + u_y^2 + u u_{yy})$ on
$[-1, 1]^2$, $t \in [0, 1]$.

The problem has no exact solution; this is its reference [D] (issue 10):

- **Space**: cell-centred finite volumes on the flux form
  $u_t = \nabla\cdot(2c\,u\nabla u)$. At an interior face the value of $u$ is the
  mean of the two cells and its gradient the difference quotient, so the flux is
  $2c\,\tfrac{u_i + u_{i+1}}2\,\tfrac{u_{i+1} - u_i}{h} = c\,\tfrac{u_{i+1}^2 -
  u_i^2}{h}$: the scheme is the 5-point $c\,\Delta_h(u^2)$, conservative and second
  order. At a boundary face the Dirichlet value $u = 0$ enters the same way over
  the half cell between the centre and the face: the face value of $u$ is the mean
  $u_1/2$ of the cell and the boundary, its gradient $(0 - u_1)/(h/2)$, so the flux
  is $-2c\,u_1^2/h$, which is the ghost value $-u_1^2$ for $w = u^2$ (the
  standard second-order Dirichlet ghost for $w$, the quantity that diffuses).

  A literal ghost $-u_1$ for $u$ itself would make the face value
  $\tfrac12(u_1 - u_1) = 0$ and with it the boundary flux: that scheme conserves
  the mass and solves the no-flux problem for $w$, which does not keep $u = 0$ on
  the boundary. The true Dirichlet problem loses mass through the boundary, since
  $w = u^2$ vanishes there with, where $u > 0$ inside, a nonzero normal derivative
  (Hopf's lemma), so the ghost is on $w$ [D]. It matters for the sheet's initial
  condition, which is not zero on the boundary ($u_0 = 9.4 \cdot 10^{-3}$ at
  $(-1, -0.1)$): measured on $201^2$ cells at $t = 1$, the zero-flux scheme lets
  $u$ grow to $0.017$ in the boundary cells (ours: $0.007$, in a thin boundary
  layer) and differs from ours by $3.7 \cdot 10^{-3}$ in relative $L^2$, twenty
  times the discretisation error of that grid ($1.9 \cdot 10^{-4}$ against $603^2$,
  below).
- **Invariants** of the semi-discrete system, for $u \ge 0$: positivity (a cell
  with $u_i = 0$ has $\dot u_i = c\sum_{\text{nbrs}} u_j^2/h^2 \ge 0$), the maximum
  principle (a cell holding the maximum of $u^2$ has $\Delta_h(u^2) \le 0$), and a
  mass that only decreases, $\frac{d}{dt}\sum_i u_i\,|V_i| = -2c\sum_{\text{boundary
  faces}} u_1^2\,|F|/h_\perp$.
- **Time**: diffrax `Tsit5` (explicit, order 5) with a PID controller. The
  diffusivity $2cu$ is at most $0.05 \max u_0 \approx 0.02$, so the stiffness
  $8\cdot 2c\max u/h^2$ is mild (about $7 \cdot 10^3$ on $401^2$ cells, some two
  thousand stable steps to $t = 1$): an explicit method pays. Tolerances default
  by the field's dtype: `rtol` $10^{-9}$, `atol` $10^{-12}$ in float64 (the sheet's
  reference), `rtol` $10^{-5}$, `atol` $10^{-7}$ in float32 (a float64 tolerance is
  below float32's rounding, and the controller would never accept a step).

**Measured** (float64, defaults, $t = 1$, 11 save times, one core of a 2-core CPU):
on the sheet's $u_0$ the grids $67^2, 201^2, 603^2$ (their cell centres coincide)
differ at the $67^2$ centres by $2.67 \cdot 10^{-4}$ and $3.13 \cdot 10^{-5}$ (max),
order 1.95 (1.98 in $L^2$); $16^2, 48^2, 144^2$ give order 2.04. Interpolated
bilinearly (`interpolate`) to the $101^2$ nodes of $[-1, 1]^2$, $201^2$ and $401^2$
differ by $7.3 \cdot 10^{-5}$ (max) and $1.7 \cdot 10^{-4}$ (relative $L^2$, all
frames), $401^2$ and $603^2$ by $1.5 \cdot 10^{-5}$ and $3.2 \cdot 10^{-5}$: second
order, so the $401^2$ reference is within about $6 \cdot 10^{-5}$ (relative $L^2$)
of the solution ($201^2$ against $603^2$: $1.9 \cdot 10^{-4}$). Wall time to
$t = 1$: $201^2$ 3 s, $401^2$ 12-25 s (1,346 accepted steps, 66 rejected), $603^2$
125 s (with other jobs on the CPU).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import Solution, as_real
from ._grid import Grid

PCOEFF, ICOEFF = 0.4, 0.3  # a PI controller: few rejected steps at the stability limit
DEFAULT_TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (1e-5, 1e-7)}
"""`(rtol, atol)` by the dtype of the solved field (float16 and bfloat16 take
float32's)."""


def _dirichlet_square_laplacian(
    u: Float[Array, "X Y"], hx: float, hy: float
) -> Float[Array, "X Y"]:
    r"""$\Delta_h(u^2)$ on cells with $u^2 = 0$ on the boundary (ghost $-u_1^2$)."""
    w = u**2
    gx = jnp.concatenate([-w[:1], w, -w[-1:]], axis=0)
    gy = jnp.concatenate([-w[:, :1], w, -w[:, -1:]], axis=1)
    fx = (gx[1:] - gx[:-1]) / hx  # the gradient of w on the X + 1 faces normal to x
    fy = (gy[:, 1:] - gy[:, :-1]) / hy
    return (fx[1:] - fx[:-1]) / hx + (fy[:, 1:] - fy[:, :-1]) / hy


class NonlinearDiffusion2D(eqx.Module):
    r"""The finite-volume method-of-lines solver of $u_t = c\,\Delta(u^2)$ on a 2-D
    grid of cells with $u = 0$ on the boundary (module docstring).

    `solver.solve(u0, ts)` integrates one field `(1, X, Y)` with Tsit5 and a PID
    controller; `solver.rhs(u)` is the semi-discrete right-hand side;
    `NonlinearDiffusion2D.initial_condition(grid)` is the sheet's $u_0$ and
    `solver.interpolate(u, points)` samples a solution anywhere in the box. The
    coefficient $c$ is an array leaf, so the solve jits once per grid, vmaps over
    solvers and fields, and differentiates.

    **Arguments:**

    - `grid`: a 2-D `Grid` of cells (the sheet: `Grid((401, 401), -1.0, 1.0)`).
    - `coefficient`: $c$ (0.025: $u_t = 0.05\,\nabla\cdot(u\nabla u)$).
    - `rtol`, `atol`: the step-size controller's tolerances; `None` (default) takes
        `DEFAULT_TOLERANCES` for the dtype of the solved field.
    - `max_steps`: the most steps diffrax takes before reporting failure.

    Reference: the problem is PIG's (Kang et al., "PIG: Physics-Informed Gaussians
    as Adaptive Parametric Mesh Representations", ICLR 2025); the flux-form
    finite volumes are LeVeque, "Finite Volume Methods for Hyperbolic Problems"
    (2002), ch. 2 and 4.
    """

    grid: Grid
    coefficient: Float[Array, ""]
    rtol: float | None = eqx.field(static=True)
    atol: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        coefficient: Float[ArrayLike, ""] = 0.025,
        *,
        rtol: float | int | None = None,
        atol: float | int | None = None,
        max_steps: int = 1_000_000,
    ):
        owner = "NonlinearDiffusion2D"
        if (
            not isinstance(grid, Grid)
            or grid.ndim != 2
            or grid.points != "cells"
            or min(grid.shape) < 2
        ):
            raise ValueError(
                f"{owner} needs a 2-D Grid of cells, at least 2 x 2, e.g. "
                f"Grid((401, 401), -1.0, 1.0); got {grid!r}."
            )
        self.grid = grid
        self.coefficient = as_real(coefficient)
        self.rtol = (
            None if rtol is None else _checks.real("rtol", rtol, above=0.0, owner=owner)
        )
        self.atol = (
            None if atol is None else _checks.real("atol", atol, above=0.0, owner=owner)
        )
        self.max_steps = _checks.integer("max_steps", max_steps, minimum=1, owner=owner)

    def tolerances(self, dtype) -> tuple[float, float]:
        """`(rtol, atol)` for a field of `dtype`: the ones given, else the dtype's
        defaults (`DEFAULT_TOLERANCES`)."""
        name = "float64" if jnp.dtype(dtype) == jnp.float64 else "float32"
        rtol, atol = DEFAULT_TOLERANCES[name]
        return (
            rtol if self.rtol is None else self.rtol,
            atol if self.atol is None else self.atol,
        )

    def rhs(self, u: Float[Array, "1 X Y"]) -> Float[Array, "1 X Y"]:
        r"""The semi-discrete right-hand side $c\,\Delta_h(u^2)$ with the boundary
        flux of the module docstring."""
        self.grid.check_field(u, "NonlinearDiffusion2D", channels=1)
        hx, hy = self.grid.spacing
        return self.coefficient * _dirichlet_square_laplacian(u[0], hx, hy)[None]

    def solve(self, u0: Float[Array, "1 X Y"], ts: Float[Array, " T"]) -> Solution:
        r"""Integrate from `u0` at `ts[0]` and save at the times `ts`.

        **Arguments:**

        - `u0`: the initial cell values, shape `(1, X, Y)` (float64 for a
            reference: `jax.enable_x64`).
        - `ts`: increasing save times; `ts[0]` is the initial time (saved as `u0`).

        **Returns:**

        A `Solution`: `ys` `(T, 1, X, Y)` and whether diffrax reported success.
        """
        self.grid.check_field(u0, "NonlinearDiffusion2D", channels=1)
        ts = jnp.asarray(ts)
        if ts.ndim != 1 or ts.shape[0] < 2:
            raise ValueError(
                "NonlinearDiffusion2D.solve needs at least two save times ts (the "
                f"first is the initial time), got shape {ts.shape}."
            )
        rtol, atol = self.tolerances(u0.dtype)
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, u, args: self.rhs(u)),
            diffrax.Tsit5(),
            t0=ts[0],
            t1=ts[-1],
            dt0=None,
            y0=u0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(
                rtol=rtol, atol=atol, pcoeff=PCOEFF, icoeff=ICOEFF
            ),
            max_steps=self.max_steps,
            throw=False,
        )
        return Solution(solution.ys, solution.result == diffrax.RESULTS.successful)

    @staticmethod
    def initial_condition(grid: Grid, dtype=None) -> Float[Array, "1 X Y"]:
        r"""The sheet's initial condition at the cell centres of `grid`:
        $u_0 = 0.25\,e^{-((x-0.3)^2 + (y-0.2)^2)/0.1} + 0.4\,e^{-15((x+0.5)^2 +
        (y+0.1)^2)} + 0.3\,e^{-20(x^2 + (y+0.5)^2)}$.

        **Arguments:**

        - `grid`: a 2-D grid (the sheet's box is $[-1, 1]^2$).
        - `dtype`: the float type (default: JAX's default float).

        **Returns:**

        $u_0$, shape `(1, X, Y)`, computed in float64 and then cast.
        """
        if not isinstance(grid, Grid) or grid.ndim != 2:
            raise ValueError(
                "NonlinearDiffusion2D.initial_condition needs a 2-D Grid, got "
                f"{grid!r}."
            )
        x, y = np.meshgrid(*grid.axes, indexing="ij")
        u0 = (
            0.25 * np.exp(-((x - 0.3) ** 2 + (y - 0.2) ** 2) / 0.1)
            + 0.4 * np.exp(-15 * ((x + 0.5) ** 2 + (y + 0.1) ** 2))
            + 0.3 * np.exp(-20 * (x**2 + (y + 0.5) ** 2))
        )
        return jnp.asarray(u0[None], dtype=dtype or jnp.result_type(float))

    def interpolate(
        self, u: Float[Array, "1 X Y"], points: Float[ArrayLike, "P 2"]
    ) -> Float[Array, "1 P"]:
        r"""Bilinear interpolation of a cell-centred solution at arbitrary points of
        the box, with $u = 0$ on the boundary (the ghost cells $-u$, so the points
        between the boundary and the first centres interpolate towards 0).
        Second-order accurate, like the solution.

        **Arguments:**

        - `u`: a field `(1, X, Y)` on the solver's grid (e.g. `solution.ys[k]`).
        - `points`: coordinates `(P, 2)` inside the box (a concrete point outside
            is a `ValueError`; traced points are clipped to the box).

        **Returns:**

        The values `(1, P)`.
        """
        self.grid.check_field(u, "NonlinearDiffusion2D.interpolate", channels=1)
        lower, upper = np.asarray(self.grid.lower), np.asarray(self.grid.upper)
        if not isinstance(points, jax.core.Tracer):
            concrete = np.asarray(points)
            if concrete.ndim != 2 or concrete.shape[1] != 2:
                raise ValueError(
                    "NonlinearDiffusion2D.interpolate expected points of shape (P, 2), "
                    f"got {concrete.shape}."
                )
            slack = 1e-12 * (upper - lower)
            if np.any(concrete < lower - slack) or np.any(concrete > upper + slack):
                raise ValueError(
                    "NonlinearDiffusion2D.interpolate: every point must lie in the "
                    f"box {tuple(lower)} .. {tuple(upper)}."
                )
        points = jnp.asarray(points, dtype=u.dtype)
        sign = np.ones((u.shape[1] + 2, u.shape[2] + 2))
        sign[[0, -1], :] *= -1
        sign[:, [0, -1]] *= -1  # the corner ghosts are u itself: 0 at the corner
        g = jnp.pad(u[0], 1, mode="symmetric") * jnp.asarray(sign, u.dtype)
        h = jnp.asarray(self.grid.spacing, u.dtype)
        clipped = jnp.clip(
            points, jnp.asarray(lower, u.dtype), jnp.asarray(upper, u.dtype)
        )
        index = (clipped - jnp.asarray(lower, u.dtype)) / h + 0.5  # ghost-padded index
        return jax.scipy.ndimage.map_coordinates(g, list(index.T), order=1)[None]
