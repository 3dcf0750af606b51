"""Classic PINN problems: Poisson 2-D, viscous Burgers 1-D and PDEBench's
diffusion-sorption (its reference from `sciml.solvers.DiffusionSorption`)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ... import solvers
from .._conditions import Dirichlet, InitialValue, Robin
from .._domain import Box
from ._base import AbstractScalarProblem


class Poisson2D(AbstractScalarProblem):
    r"""$-\Delta u = 2\pi^2 \sin(\pi x)\sin(\pi y)$ on $[0, 1]^2$, $u = 0$ on the
    boundary, with $u = \sin(\pi x)\sin(\pi y)$. Tested on a 101 x 101 grid.

    **Arguments:**

    - `engine`: the derivative engine ([`sciml.pinns.Derivatives`][]).
    """

    def __init__(self, *, engine: str = "auto"):
        self.domain = Box((0.0, 0.0), (1.0, 1.0), ("x", "y"))
        self.conditions = (Dirichlet(0.0),)
        self.test_shape = (101, 101)
        self.engine = engine
        self.residual_weight = 1.0

    def exact(self, x):
        """The exact solution at one point `x` (the class docstring)."""
        return jnp.sin(math.pi * x[0]) * jnp.sin(math.pi * x[1])

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        return -D.laplacian() - 2.0 * math.pi**2 * self.exact(x)


_HERMITE = np.polynomial.hermite.hermgauss(160)


class Burgers1D(AbstractScalarProblem):
    r"""$u_t + u u_x = \nu u_{xx}$ on $x \in [-1, 1]$, $t \in [0, 1]$, $u(0, x) =
    -\sin(\pi x)$, $u(t, \pm 1) = 0$, $\nu = 0.01/\pi$ (the classic of Raissi,
    Perdikaris & Karniadakis, J. Comput. Phys. 2019). The exact solution is the
    Cole-Hopf integral

    $$
    u(t, x) = -\frac{\int \sin\pi(x - \eta)\, f(x - \eta)\, e^{-\eta^2/4\nu t}\,d\eta}
                    {\int f(x - \eta)\, e^{-\eta^2/4\nu t}\,d\eta},
    \qquad f(y) = e^{-\cos(\pi y)/2\pi\nu},
    $$

    evaluated by 160-point Gauss-Hermite quadrature (with $f$ scaled by its
    maximum, so nothing overflows). Tested on 100 x 256 points $(t, x)$.

    **Arguments:**

    - `nu`: the viscosity $\nu$.
    - `engine`: the derivative engine.
    """

    nu: float = eqx.field(static=True)

    def __init__(self, nu: float = 0.01 / math.pi, *, engine: str = "auto"):
        self.nu = float(nu)
        self.domain = Box((0.0, -1.0), (1.0, 1.0), ("t", "x"))
        self.conditions = (
            InitialValue(lambda p: -jnp.sin(math.pi * p[1])),
            Dirichlet(0.0),
        )
        self.test_shape = (100, 256)
        self.engine = engine
        self.residual_weight = 1.0

    def exact(self, x):
        """The exact solution at one point `x` (the class docstring)."""
        t, xx = x[0], x[1]
        nodes, weights = (jnp.asarray(v, dtype=x.dtype) for v in _HERMITE)
        width = jnp.sqrt(4.0 * self.nu * jnp.maximum(t, 1e-30))
        y = xx - width * nodes
        log_f = -jnp.cos(math.pi * y) / (2.0 * math.pi * self.nu)
        f = weights * jnp.exp(log_f - jnp.max(log_f))
        quadrature = -jnp.sum(jnp.sin(math.pi * y) * f) / jnp.sum(f)
        return jnp.where(t > 0, quadrature, -jnp.sin(math.pi * xx))

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        return D.d("t") + D.value * D.d("x") - self.nu * D.d("x", "x")


class DiffusionSorption(AbstractScalarProblem):
    r"""PDEBench's diffusion-sorption $u_t = D/R(u)\,u_{xx}$ on $x \in [0, 1]$, $t \in
    [0, 500]$, with $u(t, 0) = 1$, $u(t, 1) = -D u_x(t, 1)$ (the outflow condition
    of PDEBench's code, see [`sciml.solvers.DiffusionSorption`][]) and a constant
    initial value. No closed form: `reference()` solves it with
    `sciml.solvers.DiffusionSorption` on 1024 cells in float64 (its convergence
    tests are the solver's) and interpolates linearly to the test grid, 101 x 256
    points $(t, x)$.

    **Arguments:**

    - `u0`: the constant initial value.
    - `d`, `phi`, `rho_s`, `k_f`, `n_f`: the solver's parameters (PDEBench's
        defaults).
    - `engine`: the derivative engine.
    """

    solver: solvers.DiffusionSorption
    u0: float = eqx.field(static=True)

    def __init__(
        self,
        u0: float = 0.0,
        d: float = 5e-4,
        phi: float = 0.29,
        rho_s: float = 2880.0,
        k_f: float = 3.5e-4,
        n_f: float = 0.874,
        *,
        engine: str = "auto",
    ):
        self.solver = solvers.DiffusionSorption(
            solvers.Grid(1024), d, phi, rho_s, k_f, n_f
        )
        self.u0 = float(u0)
        self.domain = Box((0.0, 0.0), (500.0, 1.0), ("t", "x"))
        self.conditions = (
            InitialValue(self.u0),
            Dirichlet(1.0, on=[("x", "lower")]),
            Robin(1.0, float(d), 0.0, on=[("x", "upper")]),  # u + D du/dn = 0
        )
        self.test_shape = (101, 256)
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        return D.d("t") - self.solver.d / self.solver.retardation(D.value) * D.d(
            "x", "x"
        )

    def reference(self):
        """The test points and the reference solution there (float64; the class
        docstring says how it is computed)."""
        x = self.test_points()
        ts = np.linspace(self.domain.lower[0], self.domain.upper[0], self.test_shape[0])
        with jax.enable_x64(True):
            solver = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), self.solver)
            u0 = jnp.full((1, 1024), self.u0, jnp.float64)
            solution = eqx.filter_jit(solver.solve)(u0, jnp.asarray(ts))
            if not bool(solution.successful):
                raise RuntimeError("The reference solve of diffusion-sorption failed.")
            ys = np.asarray(solution.ys[:, 0])  # (T, 1024) at the cell centres
        # the boundary faces' values as the solver's ghosts give them: 1 at x = 0,
        # u_{N-1} 2D / (2D + dx) at x = 1
        d, dx = float(self.solver.d), 1.0 / 1024
        nodes = np.concatenate([[0.0], np.asarray(self.solver.grid.axes[0]), [1.0]])
        xs = np.linspace(self.domain.lower[1], self.domain.upper[1], self.test_shape[1])
        rows = []
        for row in ys:
            right = row[-1] * 2 * d / (2 * d + dx)
            rows.append(np.interp(xs, nodes, np.concatenate([[1.0], row, [right]])))
        return x, np.stack(rows).reshape(-1)
