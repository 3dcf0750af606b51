r"""1-D viscous Burgers $u_t + (u^2/2)_x = (\nu/\pi) u_{xx}$ on a periodic interval, by
PDEBench's finite-volume scheme with an entropy fix.

PDEBench's recipe (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §3) with the
corrections of issue #51 (domain $(0, 1)$; the convective flux carries its factor
$\tfrac12$):

$$F = \tfrac12[f(a) + f(b)] - \tfrac12\,\psi(\bar u)\,(b - a)
      - \kappa \frac{u_{i+1} - u_i}{\Delta x},
\qquad f(u) = \tfrac12 u^2,\ \bar u = \tfrac12(a + b),\ \kappa = \nu/\pi,$$

with $a = u^R_i$, $b = u^L_{i+1}$ the reconstructed states either side of the
interface, on the shared MUSCL-MC predictor-corrector scheme. PDEBench's
dissipation speed is $\psi(\bar u) = |\bar u|$ (the spec's [C] choice, Roe's speed
for Burgers). It vanishes at a sonic point: across a jump from $a = -1$ to $b = 1$
both fluxes are $\tfrac12$, so the jump never moves, an expansion shock instead of
the rarefaction fan, the entropy solution, at small or zero viscosity.

**Entropy fix** [D] (Harten & Hyman, J. Comput. Phys. 50, 1983): with
$\delta = \max(0, \tfrac12(b - a))$, the largest distance from $\bar u$ to the
characteristic speeds $a$, $b$ in an expansion,

$$\psi(\bar u) = |\bar u| \ \text{if}\ |\bar u| \ge \delta, \qquad
  \psi(\bar u) = \frac{\bar u^2 + \delta^2}{2\delta} \ \text{otherwise}.$$

It changes the flux only at interfaces where the reconstructed states open a
transonic expansion, so smooth solutions away from sonic points are untouched; the
tests check the exact Riemann solutions (a stationary shock and a rarefaction fan)
at $\nu = 0$. `entropy_fix=False` gives PDEBench's flux exactly.

Time step [D]: PDEBench takes $\Delta t = 0.25 \min(\Delta x/\max|u|,
\Delta x^2/(2\kappa))$, recomputed every step. Viscous Burgers obeys a maximum
principle, $\max_x |u(\cdot, t)| \le \max_x |u_0|$, and every PDEBench initial
condition has $|u_0| \le A_1 + A_2 < 2$; so $0.25 \min(\Delta x/2,
\Delta x^2/(2\kappa))$ is safe for every sample at all times (`max_dt`).

A faster step, measured more accurate in float32 [D]: `max_dt(..., cfl=c)` is the
combined advection-diffusion bound

$$\Delta t = \frac{c}{u_{\max}/\Delta x + 2\kappa/\Delta x^2}, \qquad 0 < c < 1,$$

never smaller than PDEBench's step for $c \ge 0.5$ and 2.8x larger at
$\nu = 0.01$, $n_x = 1024$ ($c = 0.9$: 97 substeps per frame against 268).

- Stability, measured on 16 PDEBench samples at $n_x = 1024$ (without the entropy
  fix, which only adds dissipation): with $c = 1$ every run of
  $\nu \in \{0.001, 0.0015, 0.002, 0.004, 0.01, 0.1, 1\}$ stays finite and within
  $\max|u_0|$; with $c = 1.1$ the runs with $\nu \ge 0.004$ blow up.
- $c = 1$ itself is refused. In the diffusive limit the predictor-corrector
  amplifies the grid-scale (sawtooth) mode by $|1 + z + z^2/2| = 1$ at $z = -2$, so
  rounding noise at that scale is never damped (measured at $\nu = 4$, $n_x = 64$:
  a 2e-6 sawtooth stays after the rest has decayed to the mean). $c = 0.9$ damps
  it by 0.82 per step.
- Accuracy, against a float64 spectral reference at 8x the resolution ($\nu = 0.01$,
  $t = 2$, 8 samples): in float64 the scheme's error is nRMSE $3.07 \times 10^{-5}$
  at either step (it is the spatial error). In float32, PDEBench's step gives
  $1.7 \times 10^{-4}$ and a step 3x larger $3.4 \times 10^{-5}$: the extra steps
  only accumulate float32 rounding.
"""

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from . import _fv1d
from ._advection import check_fv_grid
from ._base import AbstractStepper, as_real
from ._grid import Grid

PDEBENCH_CFL = 0.25  # PDEBench: dt = 0.25 min(dx / max|u|, dx^2 / (2 nu / pi))
U_MAX = 2.0  # |u0| <= A_1 + A_2 < 2 for every PDEBench initial condition


def entropy_fixed_speed(a: Array, b: Array) -> Array:
    r"""Harten and Hyman's dissipation speed $\psi(\bar u)$ (module docstring)."""
    mean = 0.5 * (a + b)
    speed = jnp.abs(mean)
    delta = jnp.maximum(0.5 * (b - a), 0.0)
    safe = jnp.where(delta > 0, delta, 1.0)
    return jnp.where(speed < delta, (mean**2 + delta**2) / (2 * safe), speed)


class Burgers(AbstractStepper):
    r"""One step of the finite-volume scheme for $u_t + (u^2/2)_x = (\nu/\pi)u_{xx}$,
    periodic (module docstring: PDEBench's flux with an entropy fix).

    **Arguments:**

    - `grid`: a 1-D `Grid` of cells (at least five), periodic.
    - `dt`: the step $\Delta t$ (see `max_dt`).
    - `nu`: the parameter $\nu \ge 0$ of PDEBench's files (diffusivity $\nu/\pi$;
        $\nu = 0$ is inviscid).
    - `entropy_fix`: Harten and Hyman's fix of the dissipation speed (default);
        `False` is PDEBench's flux.

    `stepper(u)` maps a field `(C, X)` to the next one.
    """

    grid: Grid
    dt: Float[Array, ""]
    nu: Float[Array, ""]
    dx: Float[Array, ""]
    entropy_fix: bool = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        nu: Float[ArrayLike, ""],
        *,
        entropy_fix: bool = True,
    ):
        check_fv_grid(grid, "Burgers")
        self.grid = grid
        self.dt = as_real(dt)
        self.nu = as_real(nu)
        self.dx = as_real(grid.spacing[0])
        self.entropy_fix = _checks.boolean("entropy_fix", entropy_fix, owner="Burgers")

    @staticmethod
    def max_dt(
        grid: Grid,
        nu: float | int,
        *,
        cfl: float | int | None = None,
        u_max: float | int = U_MAX,
    ) -> float:
        r"""The largest step: PDEBench's rule, or the combined bound.

        With `cfl=None`, PDEBench's $0.25 \min(\Delta x/u_{\max}, \Delta x^2/(2\kappa))$;
        with `cfl=c` in $(0, 1)$, $c/(u_{\max}/\Delta x + 2\kappa/\Delta x^2)$ (module
        docstring), where $\kappa = \nu/\pi$.

        **Arguments:**

        - `grid`: the grid.
        - `nu`: the parameter $\nu \ge 0$.
        - `cfl`: `None` for PDEBench's rule, or the Courant number $c$.
        - `u_max`: a bound on $|u|$ for all time (the maximum principle lets
            $\max|u_0|$ serve; 2 bounds every PDEBench initial condition).

        **Returns:**

        $\Delta t_{\max}$ (`inf` when $\nu = 0$ and $u_{\max} = 0$).
        """
        owner = "Burgers.max_dt"
        nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
        u_max = _checks.real("u_max", u_max, minimum=0.0, owner=owner)
        dx = grid.spacing[0]
        kappa = nu / math.pi
        if cfl is not None:
            cfl = _checks.real("cfl", cfl, above=0.0, below=1.0, owner=owner)
            rate = u_max / dx + 2 * kappa / dx**2
            return cfl / rate if rate > 0 else math.inf
        advective = dx / u_max if u_max > 0 else math.inf
        diffusive = dx**2 / (2 * kappa) if nu > 0 else math.inf
        return PDEBENCH_CFL * min(advective, diffusive)

    def flux(self) -> _fv1d.NumericalFlux:
        r"""The convective flux (module docstring) plus the diffusive flux
        $-(\nu/\pi)\,\delta u/\Delta x$."""
        if self.entropy_fix:
            speed = entropy_fixed_speed
        else:
            speed = lambda a, b: jnp.abs(0.5 * (a + b))  # noqa: E731
        convective = _fv1d.rusanov_flux(lambda u: 0.5 * u**2, speed)
        diffusive = _fv1d.diffusive_flux(self.nu / jnp.pi, self.dx)
        return _fv1d.add_fluxes(convective, diffusive)

    def __call__(self, u: Float[Array, "C X"]) -> Float[Array, "C X"]:
        self.grid.check_field(u, "Burgers")
        return _fv1d.predictor_corrector_step(u, self.dt, self.flux(), self.dx)
