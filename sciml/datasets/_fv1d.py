r"""The shared 1-D finite-volume scheme of PDEBench's advection, Burgers and
reaction-diffusion generators (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §2).

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

Time steps [D]: PDEBench recomputes $\Delta t$ every step and clips the last one to
land on each save time. Here every save interval $\Delta$ is split into a number
$m = \lceil \Delta / \Delta t_{\max} \rceil$ of equal substeps fixed before the
solve (`substeps`), so every save time is hit exactly, the stability bound is kept,
and the whole solve is one `lax.scan` over frames of a `fori_loop` over substeps,
with no data-dependent loop. Everything is written for ONE sample of shape `(X,)`;
the generators `jax.vmap` over samples.
"""

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciml.datasets._initial import (
    evaluate_initial_condition,
    sample_initial_condition_params,
)

GHOST = 2  # ghost cells per side: the MUSCL stencil of L(u)_i spans cells i-2 .. i+2
MIN_CELLS = 2 * GHOST + 1  # the five cells of that stencil must be distinct cells
MAX_SUBSTEPS = 10**8  # per save interval: more is refused as a likely mistake
UNROLL = 4  # substeps per loop iteration on accelerators (halves small-step GPU time)


class Interfaces(NamedTuple):
    r"""What a numerical flux sees at the $N + 1$ interfaces $i + 1/2$, $i = -1..N-1$.

    **Arguments:**

    - `left`: the reconstructed state $u^R_i$ on the left of the interface.
    - `right`: the reconstructed state $u^L_{i+1}$ on the right of it.
    - `cell_left`, `cell_right`: the cell averages $u_i$ and $u_{i+1}$.
    """

    left: Float[Array, " F"]
    right: Float[Array, " F"]
    cell_left: Float[Array, " F"]
    cell_right: Float[Array, " F"]


NumericalFlux = Callable[[Interfaces], Float[Array, " F"]]


def pad_periodic(u: Float[Array, " X"], width: int = GHOST) -> Float[Array, " Y"]:
    """Add `width` periodic ghost cells on each side of `u`."""
    return jnp.concatenate([u[-width:], u, u[:width]])


def mc_slope(
    u_minus: Float[Array, " X"], u: Float[Array, " X"], u_plus: Float[Array, " X"]
) -> Float[Array, " X"]:
    r"""The monotonised-central limited slope $\sigma_i$ (module docstring).

    **Arguments:**

    - `u_minus`, `u`, `u_plus`: $u_{i-1}$, $u_i$, $u_{i+1}$.

    **Returns:**

    $\sigma_i$; zero at extrema ($ab \le 0$), else the smallest of the central
    difference and twice each one-sided difference.
    """
    a = u - u_minus
    b = u_plus - u
    c = 0.5 * (u_plus - u_minus)
    limited = jnp.minimum(2 * jnp.minimum(jnp.abs(a), jnp.abs(b)), jnp.abs(c))
    return jnp.sign(c) * 0.5 * (1 + jnp.sign(a * b)) * limited


def reconstruct(u: Float[Array, " X"]) -> Interfaces:
    """MUSCL-MC reconstruction at the $N + 1$ interfaces of a periodic grid.

    **Arguments:**

    - `u`: the $N$ cell averages.

    **Returns:**

    The `Interfaces` $i + 1/2$ for $i = -1, \\dots, N - 1$ (the first and the last
    are the same interface, seen from both ends of the period).
    """
    padded = pad_periodic(u)  # cells -2 .. N+1
    centre = padded[1:-1]  # cells -1 .. N
    slope = mc_slope(padded[:-2], centre, padded[2:])
    right_face = centre + 0.5 * slope  # u^R_i, the right face of cell i
    left_face = centre - 0.5 * slope  # u^L_i, the left face of cell i
    return Interfaces(
        left=right_face[:-1],
        right=left_face[1:],
        cell_left=centre[:-1],
        cell_right=centre[1:],
    )


def flux_divergence(
    u: Float[Array, " X"], flux: NumericalFlux, dx: Float[Array, ""] | float
) -> Float[Array, " X"]:
    r"""$L(u)_i = (F_{i+1/2} - F_{i-1/2})/\Delta x$ with $F$ = `flux(reconstruct(u))`."""
    f = flux(reconstruct(u))
    return (f[1:] - f[:-1]) / dx


def predictor_corrector_step(
    u: Float[Array, " X"],
    dt: Float[Array, ""] | float,
    flux: NumericalFlux,
    dx: Float[Array, ""] | float,
) -> Float[Array, " X"]:
    r"""One step $u^* = u - \tfrac{\Delta t}{2} L(u)$, $u^{n+1} = u - \Delta t\,L(u^*)$."""
    u_star = u - 0.5 * dt * flux_divergence(u, flux, dx)
    return u - dt * flux_divergence(u_star, flux, dx)


def rusanov_flux(
    f: Callable[[Float[Array, " F"]], Float[Array, " F"]],
    speed: Callable[[Float[Array, " F"], Float[Array, " F"]], Float[Array, " F"]],
) -> NumericalFlux:
    r"""The local Lax-Friedrichs (Rusanov-type) flux of a physical flux $f$.

    $F = \tfrac12[f(u^R_i) + f(u^L_{i+1})] - \tfrac12 s\,(u^L_{i+1} - u^R_i)$, with the
    factor $\tfrac12$ on the dissipation that PDEBench's pre-2023 advection and
    Burgers files lacked (spec §4, issues #46 and #51).

    **Arguments:**

    - `f`: the physical flux $f(u)$.
    - `speed`: the dissipation speed $s(u^R_i, u^L_{i+1}) \ge 0$.

    **Returns:**

    A `NumericalFlux`.
    """

    def flux(s: Interfaces) -> Float[Array, " F"]:
        central = 0.5 * (f(s.left) + f(s.right))
        return central - 0.5 * speed(s.left, s.right) * (s.right - s.left)

    return flux


def diffusive_flux(
    diffusivity: Float[Array, ""] | float, dx: Float[Array, ""] | float
) -> NumericalFlux:
    r"""The central diffusive flux $F = -\kappa (u_{i+1} - u_i)/\Delta x$ of $\kappa u_{xx}$."""

    def flux(s: Interfaces) -> Float[Array, " F"]:
        return -diffusivity * (s.cell_right - s.cell_left) / dx

    return flux


def add_fluxes(*fluxes: NumericalFlux) -> NumericalFlux:
    """The sum of numerical fluxes, e.g. convective plus diffusive."""

    def flux(s: Interfaces) -> Float[Array, " F"]:
        total = fluxes[0](s)
        for g in fluxes[1:]:
            total = total + g(s)
        return total

    return flux


def solve_frames(
    u0: Float[Array, " X"],
    step: Callable[[Float[Array, " X"]], Float[Array, " X"]],
    n_frames: int,
    substeps: int,
) -> Float[Array, "T X"]:
    """Apply `step` `substeps` times per save interval and keep every frame.

    **Arguments:**

    - `u0`: the initial state (frame 0).
    - `step`: one time step of the fixed size $\\Delta/m$ (e.g. a closure over
        `predictor_corrector_step`).
    - `n_frames`: frames kept, including `u0` (static).
    - `substeps`: $m$, steps per save interval (static).

    **Returns:**

    The frames, shape `(n_frames, X)`.
    """

    unroll = 1 if jax.default_backend() == "cpu" else UNROLL  # CPU: compile time only

    def interval(u, _):
        u = jax.lax.fori_loop(0, substeps, lambda _, v: step(v), u, unroll=unroll)
        return u, u

    _, frames = jax.lax.scan(interval, u0, None, length=n_frames - 1)
    return jnp.concatenate([u0[None], frames])


def substeps(interval: float, dt_max: float, what: str) -> int:
    r"""Equal substeps per save interval: $m = \lceil \Delta/\Delta t_{\max} \rceil \ge 1$.

    **Arguments:**

    - `interval`: the save interval $\Delta$.
    - `dt_max`: the largest stable step (`inf` when nothing limits it).
    - `what`: which limit, for the error message.

    **Returns:**

    $m$. Raises `ValueError` when $m$ exceeds `MAX_SUBSTEPS` (the run would not end).
    """
    ratio = interval / dt_max
    m = max(1, math.ceil(ratio * (1 - 1e-12)))  # 40.000000001 is still 40 steps
    if m > MAX_SUBSTEPS:
        raise ValueError(
            f"The time step limit ({what}) needs {m} steps per save interval, more "
            f"than {MAX_SUBSTEPS}; reduce nx or the parameter, or save more often."
        )
    return m


# ---- plumbing shared by the three 1-D generators -------------------------------


def is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_real(name: str, value: Any, *, minimum: float | None = None) -> float:
    """Return `value` as a float; TypeError if not a real number, ValueError if not
    finite or below `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}; pass e.g. {name}=0.1.")
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{name} must be >= {minimum}, got {value!r}; pass e.g. {name}=0.1."
        )
    return float(value)


def check_sizes(
    n_samples: Any, seed: Any, nx: Any, nt: Any, t_end: Any, min_nx: int
) -> None:
    """Raise TypeError for a wrong type, ValueError for a bad value, with a fix."""
    if isinstance(t_end, bool) or not isinstance(t_end, int | float | np.number):
        raise TypeError(f"t_end must be a real number, got {t_end!r}.")
    for name, value in (("n_samples", n_samples), ("seed", seed), ("nx", nx)):
        if not is_int(value):
            raise TypeError(f"{name} must be an integer, got {value!r}.")
    if not is_int(nt):
        raise TypeError(f"nt must be an integer, got {nt!r}.")
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("nx", nx, min_nx),
        ("nt", nt, 2),
    ):
        if value < low:
            fix = f"e.g. {name}={low}"
            raise ValueError(f"{name} must be >= {low}, got {value}; {fix}.")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}; e.g. seed=0.")
    if not (math.isfinite(float(t_end)) and t_end > 0):
        raise ValueError(f"t_end must be finite and > 0, got {t_end!r}; e.g. 2.0.")


def chunk_length(chunk_size: Any, n_samples: int, sample_values: int) -> int:
    """Samples per jitted call: `chunk_size`, or about 2**25 output values (128 MiB
    of float32; on an H100 the 1-D solvers need about 1000 samples of 1024 cells
    per call to fill the GPU)."""
    if chunk_size is not None and (not is_int(chunk_size) or chunk_size < 1):
        raise ValueError(
            f"chunk_size must be an integer >= 1 or None, got {chunk_size!r}; "
            "e.g. chunk_size=64."
        )
    chunk = chunk_size or max(1, 2**25 // sample_values)
    return min(chunk, n_samples)


# A one-sample solver `solve(u0, *coefficients, dx, dt, n_frames, substeps)`, e.g.
# `advection_fv`, `burgers_fv`, `reaction_diffusion_fv`.
OneSampleSolver = Callable[..., Float[Array, "T X"]]


@functools.partial(
    jax.jit, static_argnames=("solve", "n", "n_frames", "substeps", "prepare")
)
def sample_and_solve(
    solve: OneSampleSolver,
    key: PRNGKeyArray,
    start: Int[Array, ""],
    x: Float[Array, " X"],
    coefficients: tuple[Float[Array, ""], ...],
    dx: Float[Array, ""],
    dt: Float[Array, ""],
    *,
    n: int,
    n_frames: int,
    substeps: int,
    prepare: Callable[[Float[Array, " X"]], Float[Array, " X"]] | None = None,
) -> Float[Array, "n T X"]:
    """Solve samples `start .. start + n - 1` from their PDEBench initial conditions.

    **Arguments:**

    - `solve`: the one-sample solver (static; a module-level function, so every
        call with it shares one trace per chunk shape).
    - `key`, `start`: sample $i$'s initial condition is drawn from `fold_in(key, i)`.
    - `x`: the cell centres the initial conditions are evaluated at.
    - `coefficients`: the PDE coefficients, passed to `solve` after `u0`.
    - `dx`, `dt`: cell width and time step.
    - `n`, `n_frames`, `substeps`: samples, frames kept and steps per frame (static).
    - `prepare`: applied to each initial condition before solving, e.g. a
        normalisation (static; `None`: none).

    **Returns:**

    The frames, shape `(n, n_frames, X)`.
    """
    params = sample_initial_condition_params(key, n, start=start)

    def initial(p: Any) -> Float[Array, " X"]:
        u = evaluate_initial_condition(p, x)
        return u if prepare is None else prepare(u)

    def trajectory(u: Float[Array, " X"]) -> Float[Array, "T X"]:
        return solve(u, *coefficients, dx, dt, n_frames, substeps)

    return jax.vmap(trajectory)(jax.vmap(initial)(params))


def chunk_compute(
    solve: OneSampleSolver,
    key: PRNGKeyArray,
    x: np.ndarray,
    coefficients: Sequence[float],
    dx: float,
    dt: float,
    *,
    dtype: Literal["float32", "float64"],
    n: int,
    n_frames: int,
    substeps: int,
    prepare: Callable[[Float[Array, " X"]], Float[Array, " X"]] | None = None,
) -> Callable[[int], Array]:
    """`compute(start)` for `chunk_source`: `sample_and_solve` in `dtype` arithmetic.

    `x`, the `coefficients`, `dx` and `dt` are cast to `dtype` (float64 runs under
    `jax.enable_x64`); the other arguments are those of `sample_and_solve`.
    """
    wide = dtype == "float64"

    def compute(start: int) -> Array:
        with jax.enable_x64(wide):
            real = jnp.float64 if wide else jnp.float32
            return sample_and_solve(
                solve,
                key,
                jnp.asarray(start),
                jnp.asarray(x, real),
                tuple(jnp.asarray(c, real) for c in coefficients),
                jnp.asarray(dx, real),
                jnp.asarray(dt, real),
                n=n,
                n_frames=n_frames,
                substeps=substeps,
                prepare=prepare,
            )

    return compute


def chunk_source(
    compute: Callable[[int], Any], n_samples: int, chunk: int
) -> Callable[..., Iterator[np.ndarray]]:
    """A chunk source `chunks(first=0)` for `sciml.datasets.write`.

    `compute(start)` returns the fields of samples `start .. start + chunk - 1`, shape
    `(chunk, T, X)`. Blocks start at multiples of `chunk` (the first one is cut to
    begin at `first`), so a sample's values never depend on where a write resumed.
    The next block is dispatched before the current one is copied to the host, so
    the device computes while the host writes.
    """

    def chunks(first: int = 0) -> Iterator[np.ndarray]:
        if first >= n_samples:
            return
        starts = range((first // chunk) * chunk, n_samples, chunk)
        pending = compute(starts[0]) if len(starts) else None
        for k, start in enumerate(starts):
            current = pending
            if k + 1 < len(starts):
                pending = compute(starts[k + 1])
            block = np.asarray(current, dtype=np.float32)
            yield block[max(first - start, 0) : n_samples - start, :, :, None]

    return chunks
