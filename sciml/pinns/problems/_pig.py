"""The PIG paper's benchmark problems with closed-form solutions (method sheet
`specs/pig.md` §4): Helmholtz 2-D, Klein-Gordon (2+1)-D and flow mixing (2+1)-D."""

import math

import equinox as eqx
import jax.numpy as jnp

from .._conditions import Dirichlet, InitialValue, InitialVelocity
from .._domain import Box
from ._base import AbstractScalarProblem


class Helmholtz2D(AbstractScalarProblem):
    r"""$u_{xx} + u_{yy} + k^2 u = q$ on $[-1, 1]^2$, $u = 0$ on the boundary, with
    $u = \sin(a_1\pi x)\sin(a_2\pi y)$ and $q = (k^2 - (a_1\pi)^2 - (a_2\pi)^2)\,u$
    (sheet: $k = 1$, $(a_1, a_2) = (1, 4)$; the high-frequency variant $(10, 10)$).
    The loss weights of the paper's code: boundary 1, residual $10^{-4}$; tested on
    a 250 x 250 grid.

    **Arguments:**

    - `a1`, `a2`: the wave numbers $a_1, a_2$.
    - `k`: the Helmholtz constant $k$.
    - `engine`: the derivative engine ([`sciml.pinns.Derivatives`][]).
    """

    a1: float = eqx.field(static=True)
    a2: float = eqx.field(static=True)
    k: float = eqx.field(static=True)

    def __init__(
        self, a1: float = 1.0, a2: float = 4.0, k: float = 1.0, *, engine: str = "auto"
    ):
        self.a1, self.a2, self.k = float(a1), float(a2), float(k)
        self.domain = Box((-1.0, -1.0), (1.0, 1.0), ("x", "y"))
        self.conditions = (Dirichlet(0.0),)
        self.test_shape = (250, 250)
        self.engine = engine
        self.residual_weight = 1e-4

    def exact(self, x):
        """The exact solution at one point `x` (the class docstring)."""
        return jnp.sin(self.a1 * math.pi * x[0]) * jnp.sin(self.a2 * math.pi * x[1])

    def source(self, x):
        """$q(x, y)$."""
        c = self.k**2 - (self.a1 * math.pi) ** 2 - (self.a2 * math.pi) ** 2
        return c * self.exact(x)

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        return D.laplacian() + self.k**2 * D.value - self.source(x)


class KleinGordon(AbstractScalarProblem):
    r"""$u_{tt} - (u_{xx} + u_{yy}) + u^2 = f$ on $t \in [0, 10]$, $(x, y) \in
    [-1, 1]^2$, with $u = (x + y)\cos 2t + xy\sin 2t$, so $f = u^2 - 4u$; initial
    value $x + y$, initial velocity $2xy$ (the sheet leaves whether the velocity is
    penalised uncertain; both are, [D]), Dirichlet data from $u$ on the sides.
    Tested on a 50^3 grid.

    **Arguments:**

    - `engine`: the derivative engine.
    """

    def __init__(self, *, engine: str = "auto"):
        self.domain = Box((0.0, -1.0, -1.0), (10.0, 1.0, 1.0), ("t", "x", "y"))
        self.conditions = (
            InitialValue(lambda p: p[1] + p[2]),
            InitialVelocity(lambda p: 2.0 * p[1] * p[2]),
            Dirichlet(_klein_gordon),
        )
        self.test_shape = (50, 50, 50)
        self.engine = engine
        self.residual_weight = 1.0

    def exact(self, x):
        """The exact solution at one point `x` (the class docstring)."""
        return _klein_gordon(x)

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x)
        exact = self.exact(x)
        forcing = exact**2 - 4.0 * exact
        return D.d("t", "t") - D.laplacian() + D.value**2 - forcing


def _klein_gordon(x):
    t, xx, yy = x[0], x[1], x[2]
    return (xx + yy) * jnp.cos(2.0 * t) + xx * yy * jnp.sin(2.0 * t)


V_MAX = 0.385


def _vt_over_r(x, y):
    r"""$v_t / r = \operatorname{sech}^2(r)\tanh(r)/r$, 1 at $r = 0$."""
    r2 = x**2 + y**2
    small = r2 < 1e-12
    r = jnp.sqrt(jnp.where(small, 1.0, r2))  # a safe r: no NaN gradient at 0
    return jnp.where(small, 1.0, jnp.tanh(r) / (r * jnp.cosh(r) ** 2))


def _flow_mixing(x):
    t, xx, yy = x[0], x[1], x[2]
    omega = _vt_over_r(xx, yy) / V_MAX
    return -jnp.tanh(0.5 * yy * jnp.cos(omega * t) - 0.5 * xx * jnp.sin(omega * t))


class FlowMixing(AbstractScalarProblem):
    r"""$u_t + a u_x + b u_y = 0$ on $t \in [0, 4]$, $(x, y) \in [-4, 4]^2$: a vortex
    $a = -(v_t/v_{\max})\,y/r$, $b = (v_t/v_{\max})\,x/r$, $v_t =
    \operatorname{sech}^2(r)\tanh(r)$, $r = \sqrt{x^2 + y^2}$, $v_{\max} = 0.385$,
    with $u = -\tanh\big(\tfrac y2\cos\omega t - \tfrac x2\sin\omega t\big)$, $\omega
    = v_t/(r\,v_{\max})$; $v_t/r \to 1$ as $r \to 0$ (guarded, [D]). Initial and
    boundary data from $u$; the paper's code weighs the residual 10. Tested on a
    50^3 grid.

    **Arguments:**

    - `engine`: the derivative engine.
    """

    def __init__(self, *, engine: str = "auto"):
        self.domain = Box((0.0, -4.0, -4.0), (4.0, 4.0, 4.0), ("t", "x", "y"))
        # module-level functions: a bound method would put the problem inside its
        # own conditions (a cycle in the pytree)
        self.conditions = (InitialValue(_flow_mixing), Dirichlet(_flow_mixing))
        self.test_shape = (50, 50, 50)
        self.engine = engine
        self.residual_weight = 10.0

    def velocity(self, x):
        """$(a, b)$ at a point $(t, x, y)$."""
        q = _vt_over_r(x[1], x[2]) / V_MAX
        return -q * x[2], q * x[1]

    def exact(self, x):
        """The exact solution at one point `x` (the class docstring)."""
        return _flow_mixing(x)

    def residual(self, u, x):
        """The residual at one point `x` for the field `u` (the class docstring
        has the equation)."""
        D = self.derivatives(u, x, order=1)
        a, b = self.velocity(x)
        return D.d("t") + a * D.d("x") + b * D.d("y")
