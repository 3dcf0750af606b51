r"""The shared 1-D finite-volume scheme of PDEBench's advection, Burgers and
reaction-diffusion data (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §2).

One mechanism serves all three PDEs: a conservative update of the cell averages
$u_i$ of $u_t + F(u)_x = 0$ on a periodic grid of $N$ cells of width $\Delta x$,

$$L(u)_i = \frac{F_{i+1/2} - F_{i-1/2}}{\Delta x}, \qquad u_t = -L(u),$$

where the numerical flux $F_{i+1/2}$ is a function passed in. It sees the MUSCL
reconstruction of the interface (`Interfaces`): the states $u^R_i = u_i + \sigma_i/2$
(left of the interface) and $u^L_{i+1} = u_{i+1} - \sigma_{i+1}/2$ (right of it),
with the monotonised-central slope

$$\sigma_i = \operatorname{sign}(c)\, \tfrac12 (1 + \operatorname{sign}(ab))\,
\min(2\min(|a|, |b|), |c|),$$

$a = u_i - u_{i-1}$, $b = u_{i+1} - u_i$, $c = (u_{i+1} - u_{i-1})/2$, and the two cell
averages either side (for diffusive fluxes). Periodicity enters through two ghost
cells per side. Time stepping is the 2nd-order predictor-corrector (midpoint rule)
$u^* = u^n - \tfrac{\Delta t}{2} L(u^n)$, $u^{n+1} = u^n - \Delta t\, L(u^*)$.

Every function works along the last axis, so a channel-first field `(C, X)` (or any
leading axes) passes through unchanged.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

GHOST = 2  # ghost cells per side: the MUSCL stencil of L(u)_i spans cells i-2 .. i+2
MIN_CELLS = 2 * GHOST + 1  # the five cells of that stencil must be distinct cells


class Interfaces(NamedTuple):
    r"""What a numerical flux sees at the $N + 1$ interfaces $i + 1/2$, $i = -1..N-1$.

    **Arguments:**

    - `left`: the reconstructed state $u^R_i$ on the left of the interface.
    - `right`: the reconstructed state $u^L_{i+1}$ on the right of it.
    - `cell_left`, `cell_right`: the cell averages $u_i$ and $u_{i+1}$.
    """

    left: Float[Array, "... F"]
    right: Float[Array, "... F"]
    cell_left: Float[Array, "... F"]
    cell_right: Float[Array, "... F"]


NumericalFlux = Callable[[Interfaces], Float[Array, "... F"]]


def pad_periodic(u: Float[Array, "... X"], width: int = GHOST) -> Float[Array, "... Y"]:
    """Add `width` periodic ghost cells on each side of the last axis."""
    return jnp.concatenate([u[..., -width:], u, u[..., :width]], axis=-1)


def mc_slope(
    u_minus: Float[Array, "... X"],
    u: Float[Array, "... X"],
    u_plus: Float[Array, "... X"],
) -> Float[Array, "... X"]:
    r"""The monotonised-central limited slope $\sigma_i$ (module docstring) from
    $u_{i-1}$, $u_i$, $u_{i+1}$: zero at extrema ($ab \le 0$), else the smallest of
    the central difference and twice each one-sided difference."""
    a = u - u_minus
    b = u_plus - u
    c = 0.5 * (u_plus - u_minus)
    limited = jnp.minimum(2 * jnp.minimum(jnp.abs(a), jnp.abs(b)), jnp.abs(c))
    return jnp.sign(c) * 0.5 * (1 + jnp.sign(a * b)) * limited


def reconstruct(u: Float[Array, "... X"]) -> Interfaces:
    """MUSCL-MC reconstruction at the $N + 1$ interfaces $i + 1/2$, $i = -1..N-1$, of
    a periodic grid of cell averages `u` (the first and the last interface are the
    same one, seen from both ends of the period)."""
    padded = pad_periodic(u)  # cells -2 .. N+1
    centre = padded[..., 1:-1]  # cells -1 .. N
    slope = mc_slope(padded[..., :-2], centre, padded[..., 2:])
    right_face = centre + 0.5 * slope  # u^R_i, the right face of cell i
    left_face = centre - 0.5 * slope  # u^L_i, the left face of cell i
    return Interfaces(
        left=right_face[..., :-1],
        right=left_face[..., 1:],
        cell_left=centre[..., :-1],
        cell_right=centre[..., 1:],
    )


def flux_divergence(
    u: Float[Array, "... X"], flux: NumericalFlux, dx: Float[Array, ""]
) -> Float[Array, "... X"]:
    r"""$L(u)_i = (F_{i+1/2} - F_{i-1/2})/\Delta x$ with $F$ = `flux(reconstruct(u))`."""
    f = flux(reconstruct(u))
    return (f[..., 1:] - f[..., :-1]) / dx


def predictor_corrector_step(
    u: Float[Array, "... X"],
    dt: Float[Array, ""],
    flux: NumericalFlux,
    dx: Float[Array, ""],
) -> Float[Array, "... X"]:
    r"""One step $u^* = u - \tfrac{\Delta t}{2} L(u)$, $u^{n+1} = u - \Delta t\,L(u^*)$."""
    u_star = u - 0.5 * dt * flux_divergence(u, flux, dx)
    return u - dt * flux_divergence(u_star, flux, dx)


def rusanov_flux(
    f: Callable[[Array], Array], speed: Callable[[Array, Array], Array]
) -> NumericalFlux:
    r"""The local Lax-Friedrichs (Rusanov-type) flux of a physical flux $f$,
    $F = \tfrac12[f(u^R_i) + f(u^L_{i+1})] - \tfrac12 s\,(u^L_{i+1} - u^R_i)$, with
    the factor $\tfrac12$ on the dissipation that PDEBench's pre-2023 advection and
    Burgers files lacked (spec §4, issues #46 and #51); `speed(a, b)` is the
    dissipation speed $s(u^R_i, u^L_{i+1}) \ge 0$."""

    def flux(s: Interfaces) -> Array:
        central = 0.5 * (f(s.left) + f(s.right))
        return central - 0.5 * speed(s.left, s.right) * (s.right - s.left)

    return flux


def diffusive_flux(
    diffusivity: Float[Array, ""], dx: Float[Array, ""]
) -> NumericalFlux:
    r"""The central diffusive flux $F = -\kappa (u_{i+1} - u_i)/\Delta x$ of $\kappa u_{xx}$."""

    def flux(s: Interfaces) -> Array:
        return -diffusivity * (s.cell_right - s.cell_left) / dx

    return flux


def add_fluxes(*fluxes: NumericalFlux) -> NumericalFlux:
    """The sum of numerical fluxes, e.g. convective plus diffusive."""

    def flux(s: Interfaces) -> Array:
        total = fluxes[0](s)
        for g in fluxes[1:]:
            total = total + g(s)
        return total

    return flux
