r"""The diffusion-sorption hard constraint of PI-HC-MoE (Chalapathi et al., ICLR 2024,
spec hard-constraints.md §2): $u = \Phi c$ on a $(t, x)$ grid, with the PDE rows
$u_t - D/R(u)\,u_{xx}$ at the sampled points and the initial and boundary rows."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import solvers
from .._checks import choice, real
from ._differences import central_difference, second_difference
from ._hard_constraint import AbstractConstraint, Affine, affine_values

CONDITION_ROWS = ("global", "local")
"""The `condition_rows=` choices of `DiffusionSorptionConstraint`."""


class DiffusionSorptionConstraint(AbstractConstraint):
    r"""$u_t = D/R(u)\,u_{xx}$ on a grid of `n_t` frames $\Delta t$ apart and `n_x`
    cell centres in $(0, 1)$, for the ansatz $u = \Phi c$.

    The residual stacks (all weights 1, as the official code):

    - `"pde"`: $\Phi_t c - D/R(\Phi c)\,\Phi_{xx} c$ at the sampled points, with
        $R$ the solver's retardation (nonlinear in $c$); derivatives by finite
        differences on the whole grid (central inside, one-sided at the edges);
    - `"ic"`: $(\Phi(0, \cdot)c - u_0)/\max(|u_0|, 10^{-6})$ at every $x$ (relative;
        the floor is ours, the code divides by $u_0$);
    - `"left"`: $\Phi(t, x_0)c - 1$ at every $t$;
    - `"right"`: $\Phi(t, x_{n-1})c + D\,\Phi_x(t, x_{n-1})c$ at every $t$;

    and the ridge $\lambda c$, $\lambda = 10^{-4}$. The boundary rows sit on the
    first and last cell centres, as the official code takes the grid's first and
    last columns.

    Sign of the right condition ([U] resolved): the sheet and the paper write
    $u - D u_x = 0$ at $x = 1$, but the data come from
    [`sciml.solvers.DiffusionSorption`][], which uses PDEBench's code sign $u + D
    u_x = 0$ (the literal sign is ill-posed, see the solver). The constraint
    follows the data. With $D = 5\cdot10^{-4}$ both make $u(1) \approx 0$.

    **Arguments:**

    - `solver`: the `sciml.solvers.DiffusionSorption` whose $D$ and $R(u)$ are
        used (its grid is not).
    - `dt`: the frames' spacing in time (PDEBench: 5 s).
    - `ridge`: $\lambda$.
    - `pde_weight`: a factor on the PDE rows. 1 (the default) weighs them as the
        sheet does, in seconds; the time span $T$ (500) writes them in time
        measured in $T$, $u_\tau - T D/R\,u_{xx}$, where they are of the size of
        the initial and boundary rows (in seconds they are about $10^{-3}$ of them,
        [U]: the sheet does not say in which unit the code's rows are).
    - `condition_rows`: `"global"` (every expert gets every initial and
        boundary row, as the official code) or `"local"` (an expert keeps only
        the rows on its own block; [D]).

    `data` is $u_0$ on the `n_x` cells.
    """

    solver: solvers.DiffusionSorption
    dt: float = eqx.field(static=True)
    ridge: float = eqx.field(static=True)
    pde_weight: float = eqx.field(static=True)
    condition_rows: str = eqx.field(static=True)

    def __init__(
        self,
        solver: solvers.DiffusionSorption | None = None,
        dt: float = 5.0,
        ridge: float = 1e-4,
        condition_rows: str = "global",
        pde_weight: float = 1.0,
    ):
        owner = "DiffusionSorptionConstraint"
        self.solver = (
            solvers.DiffusionSorption(solvers.Grid(1024)) if solver is None else solver
        )
        self.dt = real("dt", dt, above=0.0, owner=owner)
        self.ridge = real("ridge", ridge, minimum=0.0, owner=owner)
        self.pde_weight = real("pde_weight", pde_weight, above=0.0, owner=owner)
        self.condition_rows = choice(
            "condition_rows", condition_rows, CONDITION_ROWS, owner=owner
        )

    def fields(self, field: Affine, data: Float[Array, " X"]) -> dict[str, Affine]:
        """`u`, `u_t` and `u_xx` of the affine field on the `(n_t, n_x)` grid."""
        off, mat = field
        dx = 1.0 / off.shape[1]

        def both(fn, h, axis):
            return fn(off, h, axis), fn(mat, h, axis)

        return {
            "u": field,
            "u_t": both(central_difference, self.dt, 0),
            "u_xx": both(second_difference, dx, 1),
        }

    def shared(self, features: dict[str, Affine], data: Float[Array, " X"]):
        """The initial and boundary rows, as affine fields, and the initial rows'
        relative scale."""
        off, mat = features["u"]
        dx = 1.0 / off.shape[1]
        # u_x on the last cell: the one-sided difference of the last two columns
        d_off = (off[:, -1] - off[:, -2]) / dx
        d_mat = (mat[:, -1] - mat[:, -2]) / dx
        u0 = jnp.asarray(data, off.dtype)
        d = self.solver.d
        return {
            "ic": (off[0] - u0, mat[0]),
            "ic_scale": 1.0 / jnp.maximum(jnp.abs(u0), 1e-6),
            "left": (off[:, 0] - 1.0, mat[:, 0]),
            "right": (off[:, -1] + d * d_off, mat[:, -1] + d * d_mat),
        }

    def terms(self, c, rows, shared, data, block):
        """The `pde`, `ic`, `left` and `right` blocks (the class docstring)."""
        u = affine_values(rows["u"], c)
        u_t = affine_values(rows["u_t"], c)
        u_xx = affine_values(rows["u_xx"], c)
        pde = self.pde_weight * (
            u_t - self.solver.d / self.solver.retardation(u) * u_xx
        )
        ic = affine_values(shared["ic"], c) * shared["ic_scale"]
        left = affine_values(shared["left"], c)
        right = affine_values(shared["right"], c)
        if self.condition_rows == "local":
            ic, left, right = ic * block[0], left * block[:, 0], right * block[:, -1]
        return {"pde": pde, "ic": ic, "left": left, "right": right}
