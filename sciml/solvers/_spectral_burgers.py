r"""1-D viscous Burgers $u_t + u u_x = \nu u_{xx}$ on a periodic interval, by Fourier
pseudo-spectral collocation with the 2/3 rule and ETDRK4: the DeepONet Burgers
benchmark (Wang, Wang & Perdikaris, Sci. Adv. 7, 2021; spec deeponet.md §4), with
$\nu = 0.01$ on $[0, 1)$, $t \in [0, 1]$ and a `PeriodicMaternGRF` initial state.

Why not `Burgers`: that is PDEBench's finite-volume scheme (diffusivity
$\nu/\pi$, so it covers this equation with its `nu` $= 0.01\pi$), second order in
space; on these smooth viscous solutions a spectral scheme reaches round-off on a
coarser grid, in fewer steps [D].

- **Space**: collocation at the $N$ nodes $x_j = a + jL/N$ (`Grid(N, a, b,
  points="nodes")`) or cell centres (PDEBench's files), real FFTs, $\partial_x \to ik$ with $k = 2\pi m/L$. The
  nonlinear term is written in conservative form, $-(u^2/2)_x \to -\tfrac{ik}{2}
  \widehat{u^2}$, and de-aliased by the 2/3 rule: the modes $|m| > N/3$ of the
  product are zeroed, so a state whose modes lie in $|m| \le N/3$ is advanced
  without aliasing error (Orszag, J. Atmos. Sci. 28, 1971).
- **Time**: ETDRK4 (Cox and Matthews, 2002) on $\hat u_t = -\nu k^2 \hat u +
  \hat N(u)$, the diffusion integrated exactly, the coefficients by Kassam and
  Trefethen's contour means (`AllenCahn1D`'s). The advection is explicit: `max_dt` keeps
  $\Delta t\,u_{\max} k_{\mathrm{cut}} \le c$ (1 by default) with
  $k_{\mathrm{cut}} = 2\pi \lfloor N/3\rfloor/L$; without diffusion ETDRK4 is the
  classical RK4, stable on the imaginary axis up to $2\sqrt2$.

Measured in the tests: from $u_0 = \tfrac12\sin 2\pi x$ to $t = 1/2$ the error
against the exact Cole-Hopf solution is $6.9\cdot10^{-3}$, $5.4\cdot10^{-5}$,
$3.4\cdot10^{-9}$ of $\max|u|$ on 32, 64, 128 nodes (faster than any power of
$N$); halving the step divides the time error by 16 (order 4.0).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import as_real
from ._etdrk import etdrk4_amplification
from ._grid import Grid
from ._spectral_1d import (
    AbstractSpectralStepper1D,
    check_periodic_grid,
    spectral_arguments,
)


class SpectralBurgers1D(AbstractSpectralStepper1D):
    r"""One ETDRK4 step of the de-aliased Fourier pseudo-spectral discretisation of
    $u_t + (u^2/2)_x = \nu u_{xx}$ on a periodic grid (module docstring): $L(k) =
    -\nu k^2$, $f(u) = u^2$, $m(k) = -ik/2$, de-aliased by the 2/3 rule.

    `stepper(u)` maps a field `(C, N)` (each channel its own solution) to the next;
    `stepper.trajectory(u0, n_frames, substeps)` computes the coefficients once and
    steps in Fourier space (`output_points` interpolates its frames onto a finer
    grid). `dt` and `nu` are array leaves: one compilation per grid, vmap over
    steppers and fields, gradients with respect to both and to the initial field.

    The DeepONet benchmark's solve: `SpectralBurgers1D(Grid(400, points="nodes"),
    dt, 0.01)` in float64, with `dt` from `max_dt`, saved every 4th node.

    **Arguments:**

    - `grid`: a 1-D `Grid` of nodes or cells, an even number $N \ge 4$ of them.
    - `dt`: the step $h > 0$.
    - `nu`: the viscosity $\nu \ge 0$ (the diffusivity itself, not PDEBench's
        $\nu/\pi$).
    - `contour_points`: the points of the contour means (static).

    References: Cox and Matthews, J. Comput. Phys. 176 (2002); Kassam and
    Trefethen, SIAM J. Sci. Comput. 26 (2005).
    """

    grid: Grid
    dt: Float[Array, ""]
    nu: Float[Array, ""]
    contour_points: int = eqx.field(static=True)
    dealias = True

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        nu: Float[ArrayLike, ""] = 0.01,
        *,
        contour_points: int = 32,
    ):
        owner = "SpectralBurgers1D"
        self.grid, self.dt, self.contour_points = spectral_arguments(
            owner, grid, dt, contour_points
        )
        if _checks.is_real(nu):
            _checks.real("nu", nu, minimum=0.0, owner=owner)
        self.nu = as_real(nu)

    @staticmethod
    def max_dt(grid: Grid, u_max: float | int, *, cfl: float | int = 1.0) -> float:
        r"""The step $c/(u_{\max} k_{\mathrm{cut}})$, $k_{\mathrm{cut}} = 2\pi\lfloor
        N/3\rfloor/L$ (viscous Burgers keeps $\max|u| \le \max|u_0|$, so a bound on
        $|u_0|$ serves for all time).

        **Arguments:**

        - `grid`: the grid.
        - `u_max`: a bound on $|u|$.
        - `cfl`: $c > 0$ (1 by default, a margin of $2\sqrt2$ below RK4's limit on
            the imaginary axis).

        **Returns:**

        $\Delta t_{\max}$ (`inf` when $u_{\max} = 0$).
        """
        owner = "SpectralBurgers1D.max_dt"
        check_periodic_grid(grid, owner)
        u_max = _checks.real("u_max", u_max, minimum=0.0, owner=owner)
        cfl = _checks.real("cfl", cfl, above=0.0, owner=owner)
        k_cut = 2 * math.pi * (grid.shape[0] // 3) / grid.lengths[0]
        return cfl / (u_max * k_cut) if u_max > 0 else math.inf

    @staticmethod
    def stable_dt(
        grid: Grid,
        u_max: float | int,
        nu: float | int,
        *,
        safety: float | int = 0.9,
        speeds: int = 65,
    ) -> float:
        r"""The largest step at which ETDRK4 is stable for the frozen-coefficient
        linearisation $\hat u' = (-\nu k^2 - iuk)\hat u$ of every de-aliased mode
        $|m| \le \lfloor N/3 \rfloor$ and every speed $|u| \le u_{\max}$, times
        `safety`.

        `max_dt` ignores the viscosity, whose damping widens the bound: at
        $\nu = 0.01/\pi$ on 192 cells of $[0, 1)$ the limit is $c = \Delta t\,
        u_{\max} k_{\mathrm{cut}} = 3.65$ against $2\sqrt2$ without it. The limit
        is found from the amplification of the step the code runs
        (`etdrk4_amplification`, in float64): from RK4's bound on the imaginary
        axis, $c = 2\sqrt2$ (stable at every $\nu$; the tests check the steps
        below it), the step grows by 2 % until a mode and speed amplify, and the
        boundary is then bisected. It is the first boundary above $2\sqrt2$: a band
        of stable steps beyond an unstable one is not sought. Only the
        linearisation is checked; a bound on $|u_0|$ bounds $|u|$ for all time
        (viscous Burgers' maximum principle).

        **Arguments:**

        - `grid`: the grid.
        - `u_max`: a bound on $|u|$.
        - `nu`: the viscosity $\nu \ge 0$ (as the stepper's `nu`).
        - `safety`: the factor in $(0, 1]$ applied to the limit (0.9 by default).
        - `speeds`: the speeds $|u| \in [0, u_{\max}]$ checked (static, $\ge 2$).

        **Returns:**

        $\Delta t_{\max}$ (`inf` when $u_{\max} = 0$).
        """
        owner = "SpectralBurgers1D.stable_dt"
        check_periodic_grid(grid, owner)
        u_max = _checks.real("u_max", u_max, minimum=0.0, owner=owner)
        nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
        safety = _checks.real("safety", safety, above=0.0, maximum=1.0, owner=owner)
        speeds = _checks.integer("speeds", speeds, minimum=2, owner=owner)
        if u_max == 0:
            return math.inf
        k = 2 * np.pi * np.arange(1, grid.shape[0] // 3 + 1)[:, None] / grid.lengths[0]
        u = np.linspace(0.0, u_max, speeds)[None, :]

        def stable(h: float) -> bool:
            with jax.enable_x64(True):
                r = etdrk4_amplification(-h * nu * k**2, -1j * h * u * k)
                return bool(jnp.max(jnp.abs(r)) <= 1 + 1e-9)

        low = SpectralBurgers1D.max_dt(grid, u_max, cfl=2 * math.sqrt(2)) * (1 - 1e-9)
        high = low * 1.02
        while stable(high):
            low, high = high, high * 1.02
        for _ in range(20):  # the boundary to 2 % / 2^20
            mid = (low + high) / 2
            low, high = (mid, high) if stable(mid) else (low, mid)
        return safety * low

    def linear(self, k):
        """$L(k) = -\\nu k^2$."""
        return -self.nu * k**2

    def nonlinear(self, u):
        """$f(u) = u^2$."""
        return u**2

    def multiplier(self, k):
        """$m(k) = -ik/2$: $-(u^2/2)_x$."""
        return -0.5j * k
