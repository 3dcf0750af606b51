r"""1-D reaction-diffusion (Fisher-KPP) $u_t = \nu u_{xx} + \rho u(1 - u)$ on a
periodic interval by de-aliased Fourier collocation and ETDRK4: the linear part
$L(k) = \rho - \nu k^2$ integrated exactly, the quadratic $f(u) = u^2$ with
$m(k) = -\rho$ de-aliased by the 2/3 rule (`AbstractSpectralStepper1D`).

The diffusion never limits the step. The explicit part is the linearised
$-2\rho u$, real and in $[-2\rho, 0]$ for $u \in [0, 1]$; ETDRK4's region on the
negative real axis reaches about $-2.8$ at $hL = 0$, so `max_dt` keeps
$2\rho h \le c$ ($c = 1$ by default). Unlike PDEBench's splitting
(`ReactionDiffusion`), a spectral scheme keeps no maximum principle: with an
under-resolved initial field (PDEBench's window or absolute value) $u$ can leave
$[0, 1]$ by the size of its Gibbs oscillations.
"""

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import as_real
from ._grid import Grid
from ._spectral_1d import (
    AbstractSpectralStepper1D,
    spectral_arguments,
)


class SpectralReactionDiffusion1D(AbstractSpectralStepper1D):
    r"""One ETDRK4 step of the de-aliased Fourier discretisation of $u_t = \nu
    u_{xx} + \rho u(1 - u)$ on a periodic 1-D grid (module docstring).

    **Arguments:**

    - `grid`: a 1-D `Grid` of nodes or cells, an even number $N \ge 4$ of them.
    - `dt`: the step $h > 0$.
    - `nu`: the diffusivity $\nu \ge 0$.
    - `rho`: the growth rate $\rho$.
    - `contour_points`: the points of the contour means (static).
    """

    grid: Grid
    dt: Float[Array, ""]
    nu: Float[Array, ""]
    rho: Float[Array, ""]
    contour_points: int = eqx.field(static=True)
    dealias = True

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        nu: Float[ArrayLike, ""],
        rho: Float[ArrayLike, ""],
        *,
        contour_points: int = 32,
    ):
        owner = "SpectralReactionDiffusion1D"
        self.grid, self.dt, self.contour_points = spectral_arguments(
            owner, grid, dt, contour_points
        )
        if _checks.is_real(nu):
            _checks.real("nu", nu, minimum=0.0, owner=owner)
        self.nu = as_real(nu)
        self.rho = as_real(rho)

    @staticmethod
    def max_dt(rho: float | int, *, cfl: float | int = 1.0) -> float:
        r"""The step $c/(2|\rho|)$ (`inf` for $\rho = 0$).

        **Arguments:**

        - `rho`: the growth rate.
        - `cfl`: $c > 0$ (1 by default).
        """
        owner = "SpectralReactionDiffusion1D.max_dt"
        rho = _checks.real("rho", rho, owner=owner)
        cfl = _checks.real("cfl", cfl, above=0.0, owner=owner)
        return cfl / (2 * abs(rho)) if rho != 0 else math.inf

    def linear(self, k):
        """$L(k) = \\rho - \\nu k^2$."""
        return self.rho - self.nu * k**2

    def nonlinear(self, u):
        """$f(u) = u^2$."""
        return u**2

    def multiplier(self, k):
        """$m(k) = -\\rho$."""
        return -self.rho * jnp.ones_like(k)
