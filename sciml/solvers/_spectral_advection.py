r"""1-D advection $u_t + \beta u_x = 0$ on a periodic interval by Fourier collocation:
$L(k) = -i\beta k$ and no nonlinear term, so a step is the exact phase shift
$\hat u_m \leftarrow e^{-i\beta k_m h}\hat u_m$ (`AbstractSpectralStepper1D` with
its default, linear `nonlinear`). Any step is stable and exact in time: a
save interval takes one step. The only error is the initial field's own, its
trigonometric interpolant on the $N$ points; for PDEBench's sines ($n_j \le 4$,
no window or absolute value) that is round-off.
"""

import math

from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import as_real
from ._grid import Grid
from ._spectral_1d import (
    AbstractSpectralStepper1D,
    check_periodic_grid,
    spectral_arguments,
)


class SpectralAdvection1D(AbstractSpectralStepper1D):
    r"""One exact step of the Fourier discretisation of $u_t + \beta u_x = 0$ on a
    periodic 1-D grid (module docstring).

    **Arguments:**

    - `grid`: a 1-D `Grid` of nodes or cells, an even number $N \ge 4$ of them.
    - `dt`: the step $h > 0$ (any size).
    - `beta`: the speed $\beta$.
    """

    grid: Grid
    dt: Float[Array, ""]
    beta: Float[Array, ""]
    dealias = False

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        beta: Float[ArrayLike, ""],
    ):
        self.grid, self.dt, _ = spectral_arguments("SpectralAdvection1D", grid, dt)
        self.beta = as_real(beta)

    @staticmethod
    def max_dt(grid: Grid, beta: float | int) -> float:
        """`inf`: the step is exact for every size."""
        check_periodic_grid(grid, "SpectralAdvection1D.max_dt")
        _checks.real("beta", beta, owner="SpectralAdvection1D.max_dt")
        return math.inf

    def linear(self, k):
        """$L(k) = -i\\beta k$."""
        return -1j * self.beta * k
