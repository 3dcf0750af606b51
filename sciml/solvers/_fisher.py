r"""The Fisher equation $u_t = D u_{xx} + R(u)$ with the three source-term families of
MT-DeepONet (Kumar et al., "Synergistic learning with multi-task DeepONet", 2024;
spec deeponet.md §5.1).

| family | $R(u)$ | coefficients $c$ of $(u, u^2, u^3, u^4)$ |
|---|---|---|
| `F1` (Fisher-KPP) | $a(u - u^2)$ | $a[1, -1, 0, 0]$ |
| `F2` | $a(u - u^3)$ | $a[1, 0, -1, 0]$ |
| `F3` | $a u(1-u) e^{\beta(u-1)}$ | $a e^{-\beta}[1, \beta-1, \beta(\beta/2-1), -\beta^2/2]$ |

F3 is solved with the full exponential and encoded with its quartic (2nd-order
Taylor) coefficients, as the paper's code does ([U] in the sheet; [D]).
"""

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import AbstractStepper, as_real
from ._grid import Grid

FAMILIES = ("F1", "F2", "F3")
"""The source-term families of `FisherSources`, in order (forms 1, 2, 3)."""
RK4_REAL_LIMIT = 2.0  # h * lambda_max; RK4 is stable on [-2.785, 0]


def reaction(u: Array, family: str, a: Array, beta: Array) -> Array:
    """$R(u)$ of `family` (`"F1"`, `"F2"`, `"F3"`; F3 with the full exponential)."""
    if family == "F1":
        return a * (u - u**2)
    if family == "F2":
        return a * (u - u**3)
    return a * u * (1.0 - u) * jnp.exp(beta * (u - 1.0))


def source_coefficients(
    family: str, a: Float[ArrayLike, ""], beta: Float[ArrayLike, ""] = 0.0
) -> Float[Array, " 4"]:
    """The MT-DeepONet encoding $c$ of $R$: its coefficients of $(u, u^2, u^3, u^4)$
    (module docstring; `beta` is used by F3 only)."""
    _checks.choice("family", family, FAMILIES, owner="source_coefficients")
    a = jnp.asarray(a)
    beta = jnp.asarray(beta, a.dtype)
    if family == "F1":
        vector = jnp.array([1.0, -1.0, 0.0, 0.0], a.dtype)
    elif family == "F2":
        vector = jnp.array([1.0, 0.0, -1.0, 0.0], a.dtype)
    else:
        ones = jnp.ones_like(beta)
        vector = jnp.exp(-beta) * jnp.stack(
            [ones, beta - 1.0, beta * (beta / 2.0 - 1.0), -(beta**2) / 2.0]
        )
    return a * vector


class FisherSources(AbstractStepper):
    r"""One classical RK4 step of $u_t = D u_{xx} + R(u)$ on an interval with zero-flux
    ends, $R$ one of the MT-DeepONet source families (module docstring).

    Space: cell-centred finite volumes, mirror ghost cells for the zero flux (second
    order, measured in the tests). Time: RK4 with a fixed step inside its real-axis
    stability interval, $h\lambda_{\max} \le 2$ with $\lambda_{\max} = 4D/\Delta x^2 +
    3a(1 + \beta)$ (`max_dt`); the smooth modes then carry a time error $O(h^4)$.

    **Arguments:**

    - `grid`: a 1-D `Grid` of cells.
    - `dt`: the step $h$.
    - `d`: the diffusivity $D > 0$.
    - `family`: `"F1"`, `"F2"` or `"F3"`.
    - `a`: the rate $a$.
    - `beta`: $\beta$ of F3 (ignored by F1 and F2).
    """

    grid: Grid
    dt: Float[Array, ""]
    d: Float[Array, ""]
    a: Float[Array, ""]
    beta: Float[Array, ""]
    family: str = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        d: Float[ArrayLike, ""],
        family: str,
        a: Float[ArrayLike, ""],
        beta: Float[ArrayLike, ""] = 0.0,
    ):
        if not isinstance(grid, Grid) or grid.ndim != 1 or grid.points != "cells":
            raise ValueError(f"FisherSources needs a 1-D Grid of cells, got {grid!r}.")
        self.grid = grid
        self.dt = as_real(dt)
        self.d = as_real(d)
        self.family = _checks.choice("family", family, FAMILIES, owner="FisherSources")
        self.a = as_real(a)
        self.beta = as_real(beta)

    @staticmethod
    def max_dt(grid: Grid, d: float | int, a: float | int, beta: float | int) -> float:
        r"""The largest stable RK4 step $2/\lambda_{\max}$, $\lambda_{\max} = 4D/\Delta
        x^2 + 3a(1 + \beta)$ (bounds on $a$ and $\beta$ serve for a family)."""
        lam = 4.0 * d / grid.spacing[0] ** 2 + 3.0 * a * (1.0 + beta)
        return RK4_REAL_LIMIT / lam if lam > 0 else math.inf

    def rhs(self, u: Float[Array, "C X"]) -> Float[Array, "C X"]:
        """$D u_{xx} + R(u)$ on the cells (mirror ghosts: zero flux)."""
        dx = self.grid.spacing[0]
        padded = jnp.concatenate([u[..., :1], u, u[..., -1:]], axis=-1)
        laplacian = (padded[..., :-2] - 2.0 * u + padded[..., 2:]) / dx**2
        return self.d * laplacian + reaction(u, self.family, self.a, self.beta)

    def __call__(self, u: Float[Array, "C X"]) -> Float[Array, "C X"]:
        self.grid.check_field(u, "FisherSources")
        h, f = self.dt, self.rhs
        k1 = f(u)
        k2 = f(u + h / 2 * k1)
        k3 = f(u + h / 2 * k2)
        k4 = f(u + h * k3)
        return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
