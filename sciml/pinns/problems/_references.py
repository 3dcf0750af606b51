"""The PIG benchmarks without closed-form solutions, their references from
`sciml.solvers` (method sheet `specs/pig.md` §4): nonlinear diffusion (2+1)-D and
Allen-Cahn (1+1)-D."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ... import solvers
from .._conditions import Dirichlet, InitialValue, Periodic
from .._domain import Box
from ._base import AbstractScalarProblem


def _nonlinear_diffusion_u0(x):
    t, xx, yy = x[0], x[1], x[2]
    del t
    return (
        0.25 * jnp.exp(-((xx - 0.3) ** 2 + (yy - 0.2) ** 2) / 0.1)
        + 0.4 * jnp.exp(-15.0 * ((xx + 0.5) ** 2 + (yy + 0.1) ** 2))
        + 0.3 * jnp.exp(-20.0 * (xx**2 + (yy + 0.5) ** 2))
    )


class NonlinearDiffusion(AbstractScalarProblem):
    r"""$u_t = 0.05\,(u_x^2 + u u_{xx} + u_y^2 + u u_{yy}) = 0.025\,\Delta(u^2)$ on
    $t \in [0, 1]$, $(x, y) \in [-1, 1]^2$, $u = 0$ on the boundary, from the sheet's
    sum of three Gaussians. No closed form: `reference()` solves it with
    [`sciml.solvers.NonlinearDiffusion2D`][] (second-order finite volumes, Tsit5 at
    rtol $10^{-9}$, float64) on `reference_cells`$^2$ cells and interpolates
    bilinearly to the test grid of 101^3 points. The solver's self-convergence: 201^2
    against 401^2 differ by $1.7\cdot10^{-4}$ in relative L2 on the 101^2 grid at
    $t = 1$, 401^2 against 603^2 by $3.2\cdot10^{-5}$ (order 2), so the 401^2
    reference is about $6\cdot10^{-5}$ from the PDE's solution.

    Note: the sheet's initial condition is not zero on the boundary (9.4e-3 at
    $(-1, -0.1)$); the boundary condition holds for $t > 0$.

    **Arguments:**

    - `reference_cells`: cells per axis of the reference solve.
    - `engine`: the derivative engine ([`sciml.pinns.Derivatives`][]).
    """

    reference_cells: int = eqx.field(static=True)

    def __init__(self, reference_cells: int = 401, *, engine: str = "auto"):
        self.reference_cells = int(reference_cells)
        self.domain = Box((0.0, -1.0, -1.0), (1.0, 1.0, 1.0), ("t", "x", "y"))
        self.conditions = (InitialValue(_nonlinear_diffusion_u0), Dirichlet(0.0))
        self.test_shape = (101, 101, 101)
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        v = D.value
        flux = D.d("x") ** 2 + v * D.d("x", "x") + D.d("y") ** 2 + v * D.d("y", "y")
        return D.d("t") - 0.05 * flux

    def reference(self):
        """The test points and the reference solution there (float64; the class
        docstring says how it is computed)."""
        n = self.reference_cells
        nt, nx, ny = self.test_shape
        with jax.enable_x64(True):
            grid = solvers.Grid((n, n), (-1.0, -1.0), (1.0, 1.0))
            solver = solvers.NonlinearDiffusion2D(grid)
            ts = jnp.linspace(0.0, 1.0, nt)
            u0 = solvers.NonlinearDiffusion2D.initial_condition(grid, jnp.float64)
            solution = eqx.filter_jit(solver.solve)(u0, ts)
            if not bool(solution.successful):
                raise RuntimeError("The nonlinear-diffusion reference solve failed.")
            xy = Box((-1.0, -1.0), (1.0, 1.0), ("x", "y")).grid((nx, ny))
            values = jax.vmap(lambda u: solver.interpolate(u, xy)[0])(solution.ys)
        return self.test_points(), np.asarray(values).reshape(-1)


def _allen_cahn_u0(x):
    return x[1] ** 2 * jnp.cos(math.pi * x[1])


class AllenCahn(AbstractScalarProblem):
    r"""$u_t - 10^{-4} u_{xx} + 5u^3 - 5u = 0$ on $x \in [-1, 1]$, $t \in [0, 1]$,
    $u(0, x) = x^2\cos(\pi x)$, periodic in $x$ (values and first derivatives); the
    JAX-PI problem (no PIG code was released for it, [U] in the sheet). Train it
    with causal weighting ([`sciml.pinns.PINNLoss`][]`(causal_chunks=32)`). No
    closed form: `reference()` is [`sciml.solvers.AllenCahn1D`][] (Fourier ETDRK4, 512
    modes, $\Delta t = 10^{-5}$, float64, from the exact Fourier series of $u_0$),
    trigonometrically interpolated to the test grid of 201 x 512 points; against
    4096 modes it differs by $2.8\cdot10^{-6}$ in relative L2 over all frames.

    **Arguments:**

    - `engine`: the derivative engine.
    """

    def __init__(self, *, engine: str = "auto"):
        self.domain = Box((0.0, -1.0), (1.0, 1.0), ("t", "x"))
        self.conditions = (InitialValue(_allen_cahn_u0), Periodic("x", derivatives=1))
        self.test_shape = (201, 512)
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        v = D.value
        return D.d("t") - 1e-4 * D.d("x", "x") + 5.0 * v**3 - 5.0 * v

    def reference(self):
        """The test points and the reference solution there (float64; the class
        docstring says how it is computed)."""
        nt, nx = self.test_shape
        with jax.enable_x64(True):
            grid = solvers.Grid(512, -1.0, 1.0, points="nodes")
            stepper = solvers.AllenCahn1D(grid, 1e-5)
            u0 = solvers.AllenCahn1D.initial_condition(grid, jnp.float64)
            substeps = round(1.0 / (nt - 1) / 1e-5)
            ys = eqx.filter_jit(lambda s, u: s.trajectory(u, nt, substeps))(stepper, u0)
            xs = jnp.linspace(-1.0, 1.0, nx)
            values = np.array(jax.vmap(lambda u: stepper.interpolate(u, xs)[0])(ys))
        # t = 0: u0 itself (the solver starts from its Fourier series, which is off
        # by O(1/N) next to the kink of its periodic extension at x = +-1)
        values[0] = np.asarray(xs) ** 2 * np.cos(np.pi * np.asarray(xs))
        return self.test_points(), values.reshape(-1)
