r"""2-D diffusion-reaction (FitzHugh-Nagumo activator-inhibitor), the PDE of PDEBench's
`2D_diff-react_NA_NA.h5` (Takamoto et al., PDEBench, NeurIPS 2022 D&B).

$$u_t = D_u \Delta u + u - u^3 - k - v, \qquad v_t = D_v \Delta v + u - v$$

with no-flux (homogeneous Neumann) boundaries; PDEBench: $(-1, 1)^2$, $D_u =
10^{-3}$, $D_v = 5 \cdot 10^{-3}$, $k = 5 \cdot 10^{-3}$.

Our spec sheet does not describe this PDE. The recipe is PDEBench's MIT simulator
(`data_gen/src/sim_diff_react.py`), read, not copied. Its semi-discretisation is
kept:

- **Space**: cell-centred finite volumes, the 5-point Laplacian, and zero flux
  through the boundary faces (a ghost cell equal to its neighbour inside), so
  $\sum_{ij} \Delta_h u_{ij} = 0$ and diffusion conserves the total. Second order
  (measured in the tests).
- **Time** [D]: PDEBench calls scipy's `solve_ivp` with its defaults (RK45,
  `rtol` $10^{-3}$, `atol` $10^{-6}$) although its dataset metadata states an error
  tolerance of $10^{-6}$ [U]. Here diffrax `Tsit5` (explicit, order 5) with a PID
  controller at `rtol` $10^{-6}$, `atol` $10^{-8}$. The problem is mildly stiff
  (the diffusive eigenvalues reach $8 D_v/\Delta x^2 \approx 164$ on $128^2$ cells),
  so the step is set by stability, a few hundred steps to $t = 5$; an implicit
  solver would not pay.
"""

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import Solution, as_real
from ._grid import Grid


def neumann_laplacian(
    u: Float[Array, "X Y"], dx: float | int, dy: float | int
) -> Float[Array, "X Y"]:
    r"""The 5-point Laplacian of cell averages with zero flux through the boundary:
    $(\Delta_h u)_{ij} = (u_{i+1,j} - 2u_{ij} + u_{i-1,j})/\Delta x^2 + (\dots)_y$, the
    ghost value outside a boundary face equal to the cell inside it."""
    g = jnp.pad(u, 1, mode="edge")
    centre = g[1:-1, 1:-1]
    d2x = (g[2:, 1:-1] - 2 * centre + g[:-2, 1:-1]) / dx**2
    d2y = (g[1:-1, 2:] - 2 * centre + g[1:-1, :-2]) / dy**2
    return d2x + d2y


class DiffusionReaction2D(eqx.Module):
    r"""The method-of-lines solver of the FitzHugh-Nagumo system on a 2-D grid of
    cells with no-flux boundaries (module docstring).

    `solver.solve(uv0, ts)` integrates one field `(2, X, Y)` (channels $u$, $v$) with
    Tsit5 and a PID controller; `solver.rhs(uv)` is the semi-discrete right-hand
    side. The PDE parameters are array leaves.

    **Arguments:**

    - `grid`: a 2-D `Grid` of cells (PDEBench: `Grid((128, 128), -1.0, 1.0)`).
    - `du`, `dv`: the diffusivities $D_u, D_v \ge 0$.
    - `k`: the reaction constant $k$.
    - `rtol`, `atol`, `max_steps`: the step-size controller's settings.
    """

    grid: Grid
    du: Float[Array, ""]
    dv: Float[Array, ""]
    k: Float[Array, ""]
    rtol: float | int = eqx.field(static=True)
    atol: float | int = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        du: Float[ArrayLike, ""] = 1e-3,
        dv: Float[ArrayLike, ""] = 5e-3,
        k: Float[ArrayLike, ""] = 5e-3,
        *,
        rtol: float | int = 1e-6,
        atol: float | int = 1e-8,
        max_steps: int = 100_000,
    ):
        owner = "DiffusionReaction2D"
        if not isinstance(grid, Grid) or grid.ndim != 2 or min(grid.shape) < 2:
            raise ValueError(
                f"{owner} needs a 2-D Grid of >= 2 x 2 cells, got {grid!r}."
            )
        self.grid = grid
        self.du, self.dv, self.k = as_real(du), as_real(dv), as_real(k)
        self.rtol = _checks.real("rtol", rtol, above=0.0, owner=owner)
        self.atol = _checks.real("atol", atol, above=0.0, owner=owner)
        self.max_steps = _checks.integer("max_steps", max_steps, minimum=1, owner=owner)

    def rhs(self, uv: Float[Array, "2 X Y"]) -> Float[Array, "2 X Y"]:
        r"""$(D_u \Delta_h u + u - u^3 - k - v,\ D_v \Delta_h v + u - v)$."""
        dx, dy = self.grid.spacing
        u, v = uv[0], uv[1]
        u_t = self.du * neumann_laplacian(u, dx, dy) + u - u**3 - self.k - v
        v_t = self.dv * neumann_laplacian(v, dx, dy) + u - v
        return jnp.stack([u_t, v_t])

    def solve(self, uv0: Float[Array, "2 X Y"], ts: Float[Array, " T"]) -> Solution:
        r"""Integrate from `uv0` at `ts[0]` and save at the times `ts`.

        **Arguments:**

        - `uv0`: the initial $(u, v)$ cell values, shape `(2, X, Y)`.
        - `ts`: increasing save times; `ts[0]` is the initial time (saved as `uv0`).

        **Returns:**

        A `Solution`: `ys` `(T, 2, X, Y)` and whether diffrax reported success.
        """
        self.grid.check_field(uv0, "DiffusionReaction2D", channels=2)
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, uv, args: self.rhs(uv)),
            diffrax.Tsit5(),
            t0=ts[0],
            t1=ts[-1],
            dt0=1e-3 * (ts[-1] - ts[0]) / ts.shape[0],
            y0=uv0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=self.rtol, atol=self.atol),
            max_steps=self.max_steps,
            throw=False,
        )
        return Solution(solution.ys, solution.result == diffrax.RESULTS.successful)
